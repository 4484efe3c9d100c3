"""Metric registry, by name: ``create_metric("psnr")``. Other issues add perceptual ones here."""
from __future__ import annotations

from typing import Iterable

from ..errors import InputError
from .base import Metric, MetricResult, Output

_REGISTRY: dict[str, type[Metric]] = {}


def register(cls: type[Metric]) -> type[Metric]:
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    from .msssim import MSSSIM
    from .psnr import PSNR

    for cls in (PSNR, MSSSIM):
        _REGISTRY.setdefault(cls.name, cls)


def metric_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def metric_class(name: str) -> type[Metric]:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown metric {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def create_metric(name: str, **kwargs) -> Metric:
    return metric_class(name)(**kwargs)


def all_outputs(names: Iterable[str] | None = None) -> dict[str, Output]:
    """Every output of the named metrics (all metrics if None), by output name."""
    out = {}
    for n in names or metric_names():
        for o in metric_class(n).outputs:
            out[o.name] = o
    return out


__all__ = ["Metric", "MetricResult", "Output", "all_outputs", "create_metric", "metric_class", "metric_names",
           "register"]
