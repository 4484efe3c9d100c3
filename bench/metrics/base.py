"""What a metric is: named outputs with a direction and a unit, fed frame pairs one at a time."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..video import Frame


@dataclass(frozen=True)
class Output:
    """One number a metric produces. ``direction``: 'higher' or 'lower' is better."""

    name: str
    direction: str
    unit: str
    description: str = ""


@dataclass
class MetricResult:
    """Per-frame arrays (frame-scope metrics) and one summary number per output."""

    summary: dict[str, float]
    per_frame: dict[str, list[float]] = field(default_factory=dict)
    info: dict = field(default_factory=dict)


class Metric(ABC):
    """Base class. ``scope`` is 'frame' (a value per frame; the summary is the mean over frames, the
    convention of the field's test scripts) or 'set' (one value over all frames, e.g. FID)."""

    name: ClassVar[str]
    outputs: ClassVar[tuple[Output, ...]]
    scope: ClassVar[str] = "frame"
    description: ClassVar[str] = ""

    def __init__(self):
        self.reset()

    def weights(self) -> dict[str, str]:
        """Weight files used and their SHA-256, stored with every result."""
        return {}

    def reset(self) -> None:
        self._values: dict[str, list[float]] = {o.name: [] for o in self.outputs}
        self._notes: list[str] = []

    @abstractmethod
    def update(self, ref: Frame, dist: Frame) -> None:
        """Add one frame pair (same size and bit depth)."""

    def result(self) -> MetricResult:
        summary = {k: _nanmean(v) for k, v in self._values.items()}
        info = {"notes": sorted(set(self._notes))} if self._notes else {}
        return MetricResult(summary, {k: list(v) for k, v in self._values.items()}, info)


def _nanmean(values: list[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or np.all(np.isnan(arr)):
        return math.nan
    return float(np.nanmean(arr))
