"""One result row: a codec x sequence x target measured by ``bench run``, or one rate point of a
published curve brought in by ``bench import``. Its fields are the columns of the store's
``results`` table (:mod:`.store` makes the table from them) and of every table and export built
from it.

Keys: a run's row is keyed by :func:`result_key`, a hash of everything that determines the result
(the codec's configuration and version, the prepared sequence, the target), so a re-run finds what
is stored; an imported row by :func:`imported_key`, a hash of the file's content and the point.

Names: tables and legends show a codec whose bits were not counted from a file here with its
``bits_source`` (:func:`curve_label`: ``glc [estimated bits]``); :func:`counted_from_files` reads
that back.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..hashing import identity_hash

KEY_VERSION = 1
# an ok row further than this fraction from its target is off-target in reports (bench.report.targets)
DEFAULT_MATCH_TOLERANCE = 0.25
IMPORT_RUN_PREFIX = "import-"


@dataclass(kw_only=True)
class ResultRow:
    """A stored result. ``status`` is ``ok`` (the target met, closest in log-bpp), ``unreachable``
    (measured at the nearest rate the codec reaches) or ``failed``; a failed row has ``error`` (and the
    tail of the codec's stderr in ``log``) but no bits. ``metrics`` maps each metric output to its
    summary, ``per_frame`` each frame-scope output to its values; ``config`` holds everything the
    result was made with (codec configuration, sequence description, solver probes, metric weights).
    ``row["bpp"]`` reads a column by name, as the store, tables and templates name them."""

    key: str = field(metadata={"sql": "TEXT PRIMARY KEY"})
    run_id: str | None = None
    created: float | None = None
    status: str = field(metadata={"sql": "TEXT NOT NULL"})
    codec: str | None = None
    codec_version: str | None = None
    codec_key: str | None = None
    suite: str | None = None
    sequence: str | None = None
    sequence_key: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    fps: float | None = None
    target_bpp: float | None = None
    knob_name: str | None = None
    knob: float | None = None
    bits: int | None = None
    bpp: float | None = None
    miss: float | None = None  # achieved bpp / target - 1
    bits_source: str | None = None  # file, estimated or published
    encodes: int | None = None
    encode_s: float | None = None
    decode_s: float | None = None
    metrics_s: float | None = None
    encode_cmd: list | None = None
    decode_cmd: list | None = None
    bitstream: str | None = None
    metrics: dict | None = None
    per_frame: dict | None = None
    config: dict | None = None
    error: str | None = None
    log: str | None = None

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def sql_columns(cls) -> list[str]:
        """``name TYPE`` of every column, in order (lists and dicts are stored as JSON text)."""
        types = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "list": "TEXT", "dict": "TEXT"}
        return [f"{f.name} {f.metadata.get('sql') or types[f.type.split('|')[0].strip()]}" for f in fields(cls)]

    @classmethod
    def json_columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.type.split("|")[0].strip() in ("list", "dict"))

    @classmethod
    def from_record(cls, record: dict) -> "ResultRow":
        """A row from a mapping of column values (a stored row: columns it lacks are None)."""
        return cls(**{c: record.get(c) for c in cls.columns()})

    def __getitem__(self, column: str):
        if column not in self.columns():
            raise KeyError(column)
        return getattr(self, column)

    def flat(self, per_frame: bool = False) -> dict:
        """The row as one table line: every column but ``metrics`` and ``per_frame``, then each metric
        summary under its output's name (``psnr_y``), and with ``per_frame`` each per-frame array under
        ``frames.<output>``."""
        out = {c: getattr(self, c) for c in self.columns() if c not in ("metrics", "per_frame")}
        out.update(self.metrics or {})
        if per_frame:
            out.update({f"frames.{k}": v for k, v in (self.per_frame or {}).items()})
        return out


def result_key(codec_config: dict, sequence_key: str, target: float) -> str:
    """The key of a run's result: the codec's configuration, the prepared sequence and the target."""
    return identity_hash({"v": KEY_VERSION, "codec": codec_config, "sequence": sequence_key,
                          "target": f"{target:.6g}"}, 24)


def imported_key(digest: str, codec: str, suite: str, sequence_file: str, point: str) -> str:
    """The key of an imported rate point: the file's SHA-256, the codec name given and the point, so
    importing the same file again replaces its rows."""
    return identity_hash(f"import|{digest}|{codec}|{suite}|{sequence_file}|{point}", 32)


def import_run_id(digest: str) -> str:
    """The ``run_id`` of the rows imported from a file with SHA-256 ``digest``."""
    return f"{IMPORT_RUN_PREFIX}{digest[:12]}"


def is_import_run(run_id: str | None) -> bool:
    return str(run_id).startswith(IMPORT_RUN_PREFIX)


def curve_label(codec: str, bits_source: str | None) -> str:
    """The codec as tables and legends name it: its name, with ``[<bits_source> bits]`` after it when
    its bits were not counted from a file here (``glc [estimated bits]``), never twice."""
    tag = f" [{bits_source} bits]"
    return codec if bits_source in (None, "file") or codec.endswith(tag) else codec + tag


def counted_from_files(label: str) -> bool:
    """Whether a name made by :func:`curve_label` is of a codec whose bits were counted from files."""
    return not label.endswith(" bits]")
