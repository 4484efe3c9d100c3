"""Metrics, by name (``create_metric("lpips")``): the built-in ones below, and any an installed package
adds through the ``bench.metrics`` entry point group (see :mod:`bench.registry`). Every metric
declares its outputs with direction (lower/higher is better), unit and scope (per frame or per set
of frames)."""
from __future__ import annotations

from typing import Iterable

from ..registry import Registry
from .base import Metric, MetricResult, Output

METRICS = Registry("metric", Metric, {
    "psnr": "bench.metrics.psnr:PSNR",
    "ms-ssim": "bench.metrics.msssim:MSSSIM",
    "lpips": "bench.metrics.lpips:LPIPSAlex",
    "lpips-vgg": "bench.metrics.lpips:LPIPSVgg",
    "dists": "bench.metrics.dists:DISTS",
    "vmaf": "bench.metrics.vmaf:VMAF",
    "fid": "bench.metrics.fid:FID",
    "fvd": "bench.metrics.fvd:FVD",
    "tlp": "bench.metrics.temporal:TemporalLPIPS",
    "tof": "bench.metrics.temporal:TemporalOpticalFlow",
}, aliases={"kid": "fid", "lpips-alex": "lpips"})  # computed together with another metric
metric_names = METRICS.names
metric_class = METRICS.get
create_metric = METRICS.create


def canonical_names(names: Iterable[str]) -> list[str]:
    """Registered names for ``names`` in order, aliases resolved (``kid`` is computed by ``fid``),
    duplicates dropped; unknown names, and metrics that cannot be imported, raise :class:`InputError`."""
    return list(dict.fromkeys(metric_class(n).name for n in names))


def all_outputs(names: Iterable[str] | None = None) -> dict[str, Output]:
    """Every output of the named metrics (all metrics if None), by output name."""
    out = {}
    for n in names or metric_names():
        for o in metric_class(n).outputs:
            out[o.name] = o
    return out


__all__ = ["METRICS", "Metric", "MetricResult", "Output", "all_outputs", "canonical_names", "create_metric",
           "metric_class", "metric_names"]
