"""Metric registry, by name: ``create_metric("lpips")``. Every metric declares its outputs with
direction (lower/higher is better), unit and scope (per frame or per set of frames)."""
from __future__ import annotations

from typing import Iterable

from ..errors import InputError
from .base import Metric, MetricResult, Output

_REGISTRY: dict[str, type[Metric]] = {}


def register(cls: type[Metric]) -> type[Metric]:
    _REGISTRY[cls.name] = cls
    return cls


ALIASES = {"kid": "fid", "lpips-alex": "lpips"}  # metrics computed together with another one


def _load_builtins() -> None:
    from .dists import DISTS
    from .fid import FID
    from .fvd import FVD
    from .lpips import LPIPSAlex, LPIPSVgg
    from .msssim import MSSSIM
    from .psnr import PSNR
    from .temporal import TemporalLPIPS, TemporalOpticalFlow
    from .vmaf import VMAF

    for cls in (PSNR, MSSSIM, LPIPSAlex, LPIPSVgg, DISTS, VMAF, FID, FVD, TemporalLPIPS, TemporalOpticalFlow):
        _REGISTRY.setdefault(cls.name, cls)


def canonical_names(names: Iterable[str]) -> list[str]:
    """Registered names for ``names`` in order, aliases resolved (``kid`` is computed by ``fid``),
    duplicates dropped; unknown names raise :class:`InputError`."""
    out = []
    for n in names:
        n = ALIASES.get(n, n)
        metric_class(n)
        if n not in out:
            out.append(n)
    return out


def metric_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def metric_class(name: str) -> type[Metric]:
    _load_builtins()
    try:
        return _REGISTRY[ALIASES.get(name, name)]
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


__all__ = ["Metric", "MetricResult", "Output", "all_outputs", "canonical_names", "create_metric", "metric_class", "metric_names",
           "register"]
