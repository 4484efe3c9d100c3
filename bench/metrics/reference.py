"""The ground truth's side of the metrics, computed once per prepared sequence and kept on disk.

Every codec and target of a sweep is measured against the same prepared sequence, and several
metrics need a pass over the ground truth that does not depend on the reconstruction: the
Inception features of FID/KID, the I3D logits of FVD, tLP's LPIPS and tOF's optical flow between
consecutive ground-truth frames. :class:`Reference` stands for one prepared sequence in a measurement; a metric asks it for
its stored arrays (:meth:`Reference.load`) and, when there are none, computes its reference side as
usual and stores it (:meth:`Reference.save`) for every later codec, target and run.

Entries are ``.npz`` files in ``<folder>/<sequence key>/``, named by a hash of the sequence key, the
metric, its weights' SHA-256, the device and precision and the metric's options
(:func:`entry_key`), so a change of any of them is a miss, never a wrong value. They are written
whole or not at all (:func:`bench.files.atomic_path`): concurrent writers of one entry each write
their own temporary file and the last rename wins (the contents are the same). A damaged or
unreadable entry is a miss.

Size policy: the whole folder is kept under ``BENCH_REFERENCE_CACHE_MB`` megabytes (default 2048;
0 turns the cache off): after each write the least recently used entries (a hit refreshes an
entry's time) are deleted until it fits. An entry larger than the bound is not written. Entries
are small next to the prepared sequence they belong to (FID: 8 kB per 256x256 patch, about 0.2 MB
per 720p frame; FVD: 1.6 kB per clip; tLP: 4 bytes per frame; tOF: 7 MB per 720p frame).

LPIPS's and DISTS's reference side is a set of full-resolution feature maps (about 40 MB per 720p
frame for AlexNet, 450 MB for DISTS's VGG16), larger than the YUV it comes from; those are not
stored but computed once per batch for every metric of a measurement that shares them
(:class:`bench.metrics.base.FrameBatch`)."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import atomic_path
from ..hashing import identity_hash

VERSION = 1  # of the entries' layout; a change makes every old entry a miss
DEFAULT_MB = 2048


def limit_bytes() -> int:
    text = os.environ.get("BENCH_REFERENCE_CACHE_MB", str(DEFAULT_MB))
    try:
        mb = float(text)
    except ValueError:
        raise InputError(f"BENCH_REFERENCE_CACHE_MB={text!r} is not a number of megabytes") from None
    return max(0, int(mb * 1e6))


def entry_key(sequence_key: str, metric: str, ident: dict) -> str:
    return identity_hash({"v": VERSION, "sequence": sequence_key, "metric": metric, **ident})


@dataclass
class Reference:
    """The ground truth of one measurement: the prepared sequence's ``key``, its raw ``yuv`` file
    (all of its frames, as metrics see them) and the ``folder`` of the reference cache (None: no
    cache). ``frames``: how many frames the measurement reads."""

    key: str
    yuv: Path | None = None
    folder: Path | None = None
    frames: int = 0

    def _path(self, metric: str, ident: dict) -> Path | None:
        if self.folder is None or limit_bytes() == 0:
            return None
        return self.folder / self.key / f"{metric}-{entry_key(self.key, metric, {'frames': self.frames, **ident})}.npz"

    def load(self, metric: str, ident: dict) -> dict[str, np.ndarray] | None:
        """The arrays ``metric`` stored for this sequence with ``ident`` (weights, device, options), or None."""
        path = self._path(metric, ident)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            os.utime(path)  # recently used
            return arrays
        except (OSError, ValueError, EOFError):  # damaged or removed meanwhile: compute again
            return None

    def save(self, metric: str, ident: dict, arrays: dict[str, np.ndarray]) -> None:
        path = self._path(metric, ident)
        if path is None:
            return
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        data = buf.getvalue()
        limit = limit_bytes()
        if len(data) > limit:
            return
        try:
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
            evict(self.folder, limit)
        except OSError:  # a full or read-only disk costs speed, never a result
            pass


def evict(folder: Path, limit: int) -> None:
    """Delete the least recently used entries under ``folder`` until they take at most ``limit`` bytes."""
    entries = []
    for p in folder.glob("*/*.npz"):
        try:
            st = p.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, p))
    total = sum(e[1] for e in entries)
    for _, size, p in sorted(entries):
        if total <= limit:
            break
        p.unlink(missing_ok=True)
        total -= size


def computed_on(device: str, weights: list[dict]) -> dict:
    """The part of an entry's key that says with what and where it was computed: the weights'
    SHA-256, the device type, the precision (float32) and torch's version."""
    import torch

    return {"weights": sorted(w.get("sha256", "") for w in weights), "device": device.split(":")[0],
            "dtype": "float32", "torch": torch.__version__}
