"""Protocols: named, versioned test conditions from published comparisons (``bench run --protocol``).

A protocol is a TOML or JSON file: ``name``, ``version``, ``title``, ``source`` (where the conditions
are published), ``notes``, a ``[run]`` table (``suite`` or ``suites``, ``sequences``, ``frames``,
``fps`` or ``fps_step``, ``size``, ``resize``, ``targets``, ``metrics``, ``codecs``,
``[run.codec_options.CODEC]``) and a ``[report]`` table (``anchor``, ``ranges``, ``gif_width``,
``gif_fps``, ``gif_frames``). The built-in ones are the ``*.toml`` files beside this module;
``--protocol`` also takes the path of a file of your own. Every key is checked here (one line naming
the file and key); what the values mean is checked where they are used (suite names, metric names,
codec options), with the same messages as the command-line options.
"""
from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

FOLDER = Path(__file__).parent
RUN_KEYS = {"suite", "suites", "sequences", "frames", "fps", "fps_step", "size", "resize", "targets", "metrics",
            "codecs", "codec_options"}
REPORT_KEYS = {"anchor", "ranges", "gif_width", "gif_fps", "gif_frames"}
TOP_KEYS = {"name", "version", "title", "source", "notes", "run", "report"}


@dataclass(frozen=True)
class Protocol:
    name: str
    version: int
    title: str
    source: str
    notes: str
    origin: str  # "built in" or the file's path
    run: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    @property
    def suites(self) -> list[str]:
        return list(self.run.get("suites") or ([self.run["suite"]] if self.run.get("suite") else []))

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    def describe(self) -> dict:
        """What a run stores of the protocol it followed (and a report reads back)."""
        return {"name": self.name, "version": self.version, "title": self.title, "source": self.source,
                "notes": self.notes, "origin": self.origin, "run": self.run, "report": self.report}


def builtin_names() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.toml"))


def _read(path: Path) -> dict:
    try:
        if path.suffix.lower() == ".json":
            return json.loads(path.read_text())
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'} ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None


def load_protocol(spec: str) -> Protocol:
    """A built-in protocol by name, or a protocol file (.toml or .json) by path."""
    if spec in builtin_names():
        path, origin = FOLDER / f"{spec}.toml", "built in"
    else:
        path, origin = Path(spec).expanduser(), str(Path(spec).expanduser())
        if path.suffix.lower() not in (".toml", ".json") or not path.is_file():
            raise InputError(f"unknown protocol {spec!r}: expected one of {', '.join(builtin_names())} "
                             f"or the path of a .toml or .json protocol file")
    return parse_protocol(_read(path), str(path), origin)


def parse_protocol(d: dict, where: str, origin: str = "") -> Protocol:
    def bad(key: str, problem: str) -> InputError:
        return InputError(f"{where}: {key}: {problem}")

    if not isinstance(d, dict):
        raise InputError(f"{where}: a protocol must be a table of keys")
    for table, keys, prefix in ((d, TOP_KEYS, ""), (d.get("run") or {}, RUN_KEYS, "run."),
                                (d.get("report") or {}, REPORT_KEYS, "report.")):
        if not isinstance(table, dict):
            raise bad(prefix.rstrip("."), "must be a table")
        unknown = sorted(set(table) - keys)
        if unknown:
            raise bad(prefix + unknown[0], f"unknown key (known: {', '.join(sorted(keys))})")
    for key in ("name", "version", "title", "source"):
        if key not in d:
            raise bad(key, "missing")
    if not isinstance(d["version"], int) or isinstance(d["version"], bool):
        raise bad("version", f"{d['version']!r}: must be a whole number")
    run, report = dict(d.get("run") or {}), dict(d.get("report") or {})
    if ("suite" in run) == ("suites" in run):
        raise bad("run.suite", "give exactly one of suite (a name) or suites (a list)")
    _check_list(run, "suites", str, bad)
    _check_list(run, "sequences", str, bad)
    _check_list(run, "codecs", str, bad)
    _check_list(run, "metrics", str, bad)
    _check_list(run, "targets", (int, float), bad, positive=True)
    for key in ("frames", "fps_step", "gif_width", "gif_frames"):
        table = report if key.startswith("gif") else run
        v = table.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise bad(f"{'report' if table is report else 'run'}.{key}", f"{v!r}: must be a whole number, at least 1")
    for key, table in (("fps", run), ("gif_fps", report)):
        v = table.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
            raise bad(f"{'run' if table is run else 'report'}.{key}", f"{v!r}: must be a positive frame rate")
    if "fps" in run and "fps_step" in run:
        raise bad("run.fps", "give fps or fps_step, not both")
    opts = run.get("codec_options", {})
    if not isinstance(opts, dict) or not all(isinstance(v, dict) for v in opts.values()):
        raise bad("run.codec_options", "must hold one table per codec: [run.codec_options.CODEC]")
    ranges = report.get("ranges")
    if ranges is not None and not (isinstance(ranges, list) and ranges and all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, (int, float)) for x in r) and 0 < r[0] < r[1]
            for r in ranges)):
        raise bad("report.ranges", "must be a list of [low, high] bpp pairs with 0 < low < high")
    return Protocol(str(d["name"]), d["version"], str(d["title"]), str(d["source"]), str(d.get("notes", "")),
                    origin or where, run, report)


def _check_list(table: dict, key: str, kind, bad, positive: bool = False) -> None:
    v = table.get(key)
    if v is None:
        return
    if not isinstance(v, list) or not v or not all(isinstance(x, kind) and not isinstance(x, bool) for x in v):
        raise bad(f"run.{key}", "must be a non-empty list")
    if positive and any(x <= 0 for x in v):
        raise bad(f"run.{key}", "every value must be positive")
