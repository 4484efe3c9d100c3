"""Import published results into the store as an external codec, so local runs can be drawn and
BD-rated against published anchors.

``dcvc-json``: the per-sequence JSON of DCVC's test scripts and anchors (``anchors/`` of Microsoft's
DCVC repository): ``{dataset: {sequence file: {point: {"ave_all_frame_bpp": ..,
"ave_all_frame_psnr": .., "ave_all_frame_psnr_y": .., "ave_all_frame_msssim_y": .., ...}}}}``.
Datasets map to suites (``UVG`` -> ``uvg``, ``MCL-JCV`` -> ``mcl-jcv``, ``HEVC_B`` -> ``hevc-b``),
sequence files to the suite manifest's sequence names where the manifest knows the file.
Each rate point becomes one row with status ``ok``, no target, ``bits_source = published`` (its bits
were not counted here), the published numbers under our output names (``psnr_yuv`` is their
(6Y+U+V)/8 ``ave_all_frame_psnr``) and the whole published record in ``config.published``.
Importing the same file again replaces its rows (keys derive from the file's content).
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

from ..errors import InputError
from .row import ResultRow, import_run_id, imported_key
from .store import Store

FORMATS = ("dcvc-json",)
# published key -> our output name
DCVC_OUTPUTS = {"ave_all_frame_psnr": "psnr_yuv", "ave_all_frame_psnr_y": "psnr_y", "ave_all_frame_psnr_u": "psnr_u",
                "ave_all_frame_psnr_v": "psnr_v", "ave_all_frame_msssim_y": "ms_ssim_y"}


def suite_name(dataset: str) -> str:
    return dataset.strip().lower().replace("_", "-")


def _sequence_names(suite: str) -> dict[str, str]:
    """Manifest file name -> sequence name, for suites bench knows."""
    from ..suites import get_suite

    try:
        return {Path(s.path).name: s.name for s in get_suite(suite).sequences}
    except Exception:  # noqa: BLE001 - an unknown dataset just keeps the published names
        return {}


def _size_from_name(name: str) -> tuple[int, int] | None:
    m = re.search(r"(\d{2,5})x(\d{2,5})", name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def import_dcvc_json(path: Path, codec: str, store_path: Path) -> int:
    """Read ``path`` and store its rate points as rows of ``codec``; returns the number of rows."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not data or not all(isinstance(v, dict) for v in data.values()):
        raise InputError(f"{path}: not the DCVC per-sequence format ({{dataset: {{sequence: {{point: {{...}}}}}}}})")
    digest = hashlib.sha256(raw).hexdigest()
    rows = []
    for dataset, seqs in data.items():
        suite = suite_name(dataset)
        names = _sequence_names(suite)
        for seq_file, points in seqs.items():
            if not isinstance(points, dict):
                raise InputError(f"{path}: {dataset}/{seq_file} is not a dictionary of rate points")
            seq = names.get(seq_file, Path(seq_file).stem.split("_")[0])
            size = _size_from_name(seq_file)
            for point, rec in points.items():
                if not isinstance(rec, dict) or "ave_all_frame_bpp" not in rec:
                    raise InputError(f"{path}: {dataset}/{seq_file}/{point} has no ave_all_frame_bpp")
                rows.append(_row(rec, digest, codec, suite, seq, seq_file, point, size, path))
    if not rows:
        raise InputError(f"{path}: no rate points")
    with Store(store_path) as store:
        for r in rows:
            store.put_result(r)
    return len(rows)


def _row(rec: dict, digest: str, codec: str, suite: str, seq: str, seq_file: str, point: str, size,
         path: Path) -> ResultRow:
    frames = int(rec.get("i_frame_num", 0)) + int(rec.get("p_frame_num", 0)) or None
    width, height = size if size else (None, None)
    knob = rec.get("qp", rec.get("q_index"))
    if knob is None:
        try:
            knob = float(point)
        except ValueError:
            knob = None
    metrics = {ours: float(rec[theirs]) for theirs, ours in DCVC_OUTPUTS.items() if theirs in rec}
    return ResultRow(
        key=imported_key(digest, codec, suite, seq_file, point), run_id=import_run_id(digest), created=time.time(),
        status="ok", codec=codec, codec_version="published", codec_key=f"import:{digest[:16]}:{codec}", suite=suite,
        sequence=seq, sequence_key=f"published:{suite}:{seq_file}", width=width, height=height, frames=frames,
        knob_name="qp" if "qp" in rec else "point", knob=knob, bpp=float(rec["ave_all_frame_bpp"]),
        bits_source="published", metrics=metrics, per_frame={},
        config={"imported_from": path.name, "sha256": digest, "format": "dcvc-json", "sequence_file": seq_file,
                "point": point, "published": rec})
