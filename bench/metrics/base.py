"""What a metric is: named outputs with a direction and a unit, fed batches of frame pairs.

:class:`FrameBatch` carries a few consecutive frame pairs and memoises what several metrics need
(RGB tensors on the device, backbone features), so that e.g. LPIPS-VGG and DISTS run the shared
part of VGG16 once per frame."""
from __future__ import annotations

import math
import sys
from abc import ABC
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from ..video import Frame
from .reference import Reference, computed_on


def torch_device(device: str | None = None) -> str:
    """``device``, or CUDA when torch sees a GPU, else the CPU. Metrics that run networks import
    torch with their module; when none of them is in use torch is not imported (seconds saved per
    process) and the answer is the CPU."""
    if device:
        return device
    torch = sys.modules.get("torch")
    return "cuda" if torch is not None and torch.cuda.is_available() else "cpu"


class FrameBatch:
    """Consecutive frame pairs ``refs[i]``/``dists[i]`` (frame numbers ``start + i``) and a memo of
    derived tensors shared by every metric of one measurement."""

    def __init__(self, refs: list[Frame], dists: list[Frame], start: int = 0, device: str = "cpu"):
        self.refs, self.dists, self.start, self.device = refs, dists, start, device
        self._memo: dict[Any, Any] = {}

    @classmethod
    def from_rgb(cls, ref, dist, device: str = "cpu", start: int = 0) -> "FrameBatch":
        """A batch of RGB images (N, 3, H, W) in [0, 1] (frame numbers ``start + i``), for image
        metrics on RGB data (tests, GoL's benchmarks)."""
        b = cls([None] * len(ref), [None] * len(dist), start, device)
        b._memo[("rgb", "ref")], b._memo[("rgb", "dist")] = ref.to(device), dist.to(device)
        return b

    def __len__(self) -> int:
        return len(self.refs)

    def shared(self, key, compute: Callable[[], Any]):
        """``compute()`` once per batch for ``key``; later callers get the same object."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def rgb(self, side: str):
        """(N, 3, H, W) float32 BT.709 RGB in [0, 1] on the batch's device; ``side``: 'ref' or 'dist'."""
        import torch

        frames = self.refs if side == "ref" else self.dists
        return self.shared(("rgb", side), lambda: torch.from_numpy(
            np.stack([f.rgb() for f in frames])).permute(0, 3, 1, 2).contiguous().to(self.device))


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
    convention of the field's test scripts) or 'set' (one value over all frames, e.g. FID).
    Subclasses implement :meth:`update` (one pair) or :meth:`update_batch` (a :class:`FrameBatch`);
    :meth:`begin` gets the measurement's context first (the work folder for temporary files)."""

    name: ClassVar[str]
    outputs: ClassVar[tuple[Output, ...]]
    scope: ClassVar[str] = "frame"
    description: ClassVar[str] = ""
    reference: Reference | None = None  # the ground truth of the measurement, set before begin()

    def __init__(self, device: str | None = None):
        """``device``: torch device for metrics that run networks (default: CUDA if available)."""
        self.device = torch_device(device)
        self.reset()

    def weights(self) -> list[dict]:
        """The weight files used (file name, SHA-256, source), stored with every result."""
        return []

    def reset(self) -> None:
        self._values: dict[str, list[float]] = {o.name: [] for o in self.outputs}
        self._notes: list[str] = []

    def begin(self, workdir=None) -> None:
        """Called once before the first frame; ``workdir`` is a private folder for temporary files."""

    def update(self, ref: Frame, dist: Frame) -> None:
        """Add one frame pair (same size and bit depth)."""
        raise NotImplementedError

    def update_batch(self, batch: FrameBatch) -> None:
        """Add consecutive frame pairs; by default one :meth:`update` per pair."""
        for r, d in zip(batch.refs, batch.dists):
            self.update(r, d)

    def stored_reference(self, **options) -> dict[str, np.ndarray] | None:
        """This metric's reference-side arrays for the measurement's ground truth, computed by an
        earlier measurement with the same weights, device and ``options`` (None: compute them)."""
        if self.reference is None:
            return None
        return self.reference.load(self.name, {**computed_on(self.device, self.weights()), **options})

    def store_reference(self, arrays: dict[str, np.ndarray], **options) -> None:
        """Keep the reference-side ``arrays`` for later measurements (see :mod:`.reference`)."""
        if self.reference is not None:
            self.reference.save(self.name, {**computed_on(self.device, self.weights()), **options}, arrays)

    @classmethod
    def declaration(cls) -> dict:
        """What every stored row says about this metric's outputs."""
        return {o.name: {"direction": o.direction, "unit": o.unit, "scope": cls.scope} for o in cls.outputs}

    def result(self) -> MetricResult:
        summary = {k: _nanmean(v) for k, v in self._values.items()}
        info = {"notes": sorted(set(self._notes))} if self._notes else {}
        return MetricResult(summary, {k: list(v) for k, v in self._values.items()}, info)


def _nanmean(values: list[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or np.all(np.isnan(arr)):
        return math.nan
    return float(np.nanmean(arr))
