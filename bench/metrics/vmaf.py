"""VMAF (Netflix; Li et al. 2016) by libvmaf itself, through the ``libvmaf`` filter of the ffmpeg
inside the imageio-ffmpeg wheel (Debian's ffmpeg has no libvmaf; set ``BENCH_FFMPEG`` to use
another build).

Models: ``vmaf_v0.6.1`` (the standard model, 1080p viewing) and ``vmaf_v0.6.1neg`` (no enhancement
gain: it does not reward sharpening), both built into libvmaf. The decoded frames are written as raw YUV at
the source's bit depth into the measurement's private work folder (after the same requantisation
every other metric sees), scored in one ffmpeg run against the prepared sequence's own raw YUV file
(no copy of the reference is written; without a prepared file, the reference frames are written
too), and deleted. The per-frame
scores come from libvmaf's JSON log; the summary is their mean (libvmaf's default pooling).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from ..errors import BenchError
from ..hashing import sha256_of
from ..tools import ffmpeg_exe, ffmpeg_version, run_tool
from .base import Metric, MetricResult, Output

MODELS = {"vmaf": "vmaf_v0.6.1", "vmaf_neg": "vmaf_v0.6.1neg"}


@lru_cache(maxsize=None)
def has_libvmaf() -> bool:
    try:
        out = run_tool([ffmpeg_exe(), "-hide_banner", "-filters"], what="ffmpeg -filters").stdout
    except BenchError:
        return False
    return b" libvmaf " in out


class VMAF(Metric):
    name = "vmaf"
    description = "VMAF v0.6.1 and v0.6.1neg by libvmaf (ffmpeg)"
    outputs = (Output("vmaf", "higher", "", "VMAF, model vmaf_v0.6.1 (libvmaf)"),
               Output("vmaf_neg", "higher", "", "VMAF NEG, model vmaf_v0.6.1neg (libvmaf)"))

    def __init__(self, device: str | None = None, threads: int = 0):
        self.threads = threads
        self._dir = None
        super().__init__(device)

    def weights(self) -> list[dict]:
        exe = Path(ffmpeg_exe())
        return [{"file": f"{m} (built into libvmaf)", "sha256": sha256_of(exe), "source": f"{exe.name} {ffmpeg_version()}"}
                for m in MODELS.values()]

    def begin(self, workdir=None) -> None:
        if not has_libvmaf():
            raise BenchError(f"VMAF: {ffmpeg_exe()} has no libvmaf filter (use imageio-ffmpeg's, or set BENCH_FFMPEG)")
        self._dir = Path(tempfile.mkdtemp(prefix="vmaf-", dir=workdir))
        ref = self.reference
        # the prepared sequence's raw YUV is the reference itself: no second copy of it
        self._ref_yuv = ref.yuv if ref is not None and ref.yuv is not None and Path(ref.yuv).is_file() else None
        sides = ("dist",) if self._ref_yuv else ("ref", "dist")
        self._files = {s: open(self._dir / f"{s}.yuv", "wb") for s in sides}
        self._fmt = None
        self._count = 0

    def update(self, ref, dist) -> None:
        if self._dir is None:
            self.begin()
        self._fmt = ref.format
        if "ref" in self._files:
            self._files["ref"].write(ref.to_bytes())
        self._files["dist"].write(dist.to_bytes())
        self._count += 1

    def result(self) -> MetricResult:
        if self._dir is None or self._count == 0:
            return super().result()
        try:
            for f in self._files.values():
                f.close()
            per_frame, version = self._score()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        for out in MODELS:
            self._values[out] = per_frame[out]
        r = super().result()
        r.info["libvmaf"] = version
        return r

    def _score(self) -> tuple[dict[str, list[float]], str]:
        fmt = self._fmt
        raw = ["-f", "rawvideo", "-pix_fmt", fmt.pix_fmt, "-s", f"{fmt.width}x{fmt.height}", "-r", "25"]
        # two escaping levels (filtergraph, then the option's own key=value list): "\\\\:" reaches libvmaf as ":"
        models = "|".join(f"version={v}\\\\:name={k}" for k, v in MODELS.items())
        log = self._dir / "vmaf.json"
        graph = f"[0:v][1:v]libvmaf=log_fmt=json:log_path={log.as_posix()}:n_threads={self.threads}:model={models}"
        run_tool([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
                  *raw, "-i", self._dir / "dist.yuv", *raw, "-i", self._ref_yuv or self._dir / "ref.yuv",
                  "-lavfi", graph, "-f", "null", "-"], what="ffmpeg libvmaf")
        data = json.loads(log.read_text())
        frames = sorted(data["frames"], key=lambda f: f["frameNum"])
        if len(frames) != self._count:
            raise BenchError(f"VMAF: libvmaf scored {len(frames)} frames of {self._count}")
        return {k: [float(f["metrics"][k]) for f in frames] for k in MODELS}, str(data.get("version", ""))
