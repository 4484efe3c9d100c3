"""The result row and the store: the table is the one stores have had since schema version 1, a
store written before the row type existed opens and reads the same, and keys are unchanged (a re-run
over an existing store finds what it holds)."""
import json
import sqlite3
from fractions import Fraction
from pathlib import Path

import pytest

from bench.codecs import create_codec
from bench.hashing import identity_hash
from bench.report.gifs import GifSettings
from bench.results.row import ResultRow, counted_from_files, curve_label, imported_key, result_key
from bench.results.store import Store
from bench.results.tables import load_frame
from bench.suites import get_suite
from bench.suites.sequences import PreparedSequence, Sequence, SequenceOptions, prepare, sequence_key

# the results table of schema version 1, as bench wrote it before the row type existed: the
# compatibility contract of every store on disk
V1_RESULTS = """CREATE TABLE results (
    key TEXT PRIMARY KEY, run_id TEXT, created REAL, status TEXT NOT NULL,
    codec TEXT, codec_version TEXT, codec_key TEXT, suite TEXT, sequence TEXT, sequence_key TEXT,
    width INTEGER, height INTEGER, frames INTEGER, fps REAL,
    target_bpp REAL, knob_name TEXT, knob REAL, bits INTEGER, bpp REAL, miss REAL, bits_source TEXT,
    encodes INTEGER, encode_s REAL, decode_s REAL, metrics_s REAL,
    encode_cmd TEXT, decode_cmd TEXT, bitstream TEXT, metrics TEXT, per_frame TEXT,
    config TEXT, error TEXT, log TEXT)"""
V1_OTHERS = """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE runs (run_id TEXT PRIMARY KEY, started REAL, finished REAL, argv TEXT, config TEXT, environment TEXT);
CREATE INDEX results_by_codec ON results (codec, sequence, target_bpp);
CREATE TABLE probes (codec_key TEXT, sequence_key TEXT, knob REAL, bits INTEGER, bpp REAL, encode_s REAL,
    created REAL, PRIMARY KEY (codec_key, sequence_key, knob));"""


def table_info(path: Path, table: str = "results") -> list[tuple]:
    with sqlite3.connect(path) as c:
        return c.execute(f"PRAGMA table_info({table})").fetchall()


def v1_store(path: Path, rows: list[tuple]) -> Path:
    """A store as bench wrote it before the row type: schema version 1, rows inserted column by column."""
    with sqlite3.connect(path) as c:
        c.executescript(V1_RESULTS + ";\n" + V1_OTHERS)
        c.executemany(f"INSERT INTO results VALUES ({','.join('?' * 33)})", rows)
    return path


def a_row(**changes) -> ResultRow:
    base = dict(key="k1", run_id="r1", created=1.5, status="ok", codec="x265", codec_version="v", codec_key="ck",
                suite="demo", sequence="carphone", sequence_key="sk", width=176, height=144, frames=3, fps=5.0,
                target_bpp=0.01, knob_name="qp", knob=40.0, bits=800, bpp=0.0105, miss=0.05, bits_source="file",
                encodes=3, encode_s=0.1, decode_s=0.01, metrics_s=0.02, encode_cmd=["ffmpeg", "-i", "x"],
                decode_cmd=["ffmpeg"], bitstream="/b/k1.265", metrics={"psnr_y": 30.5}, per_frame={"psnr_y": [30, 31]},
                config={"codec": {"codec": "x265"}, "target_bpp": 0.01}, error=None, log="tail")
    return ResultRow(**{**base, **changes})


def test_a_new_store_has_the_version_1_table(tmp_path):
    Store(tmp_path / "new.sqlite").close()
    v1 = tmp_path / "v1.sqlite"
    v1_store(v1, [])
    for table in ("results", "runs", "probes", "meta"):
        assert table_info(tmp_path / "new.sqlite", table) == table_info(v1, table)
    assert ResultRow.columns() == tuple(c[1] for c in table_info(v1))


def test_a_version_1_store_reads_as_rows_and_takes_new_ones(tmp_path):
    old = a_row()
    values = [json.dumps(v) if isinstance(v, (list, dict)) else v for v in vars(old).values()]
    path = v1_store(tmp_path / "v1.sqlite", [tuple(values)])
    with Store(path) as s:  # opened for writing: nothing to migrate, nothing lost
        (read,) = s.results()
        assert read == old and read["bpp"] == read.bpp == 0.0105
        s.put_result(a_row(key="k2", status="failed", bits=None, metrics=None, per_frame=None, error="boom"))
    with sqlite3.connect(path) as c:  # what bench wrote before reads the new row the same way
        c.row_factory = sqlite3.Row
        new = dict(c.execute("SELECT * FROM results WHERE key='k2'").fetchone())
    assert new["status"] == "failed" and new["metrics"] is None and json.loads(new["config"])["target_bpp"] == 0.01
    df = load_frame(path, per_frame=True)
    assert list(df["key"]) == ["k1", "k2"] and df["psnr_y"].iloc[0] == 30.5 and df["frames.psnr_y"].iloc[0] == [30, 31]


def test_row_columns_by_name_and_table_line():
    row = a_row()
    with pytest.raises(KeyError):
        row["flat"]  # a method, not a column
    line = row.flat(per_frame=True)
    assert "metrics" not in line and line["psnr_y"] == 30.5 and line["frames.psnr_y"] == [30, 31]
    assert list(line)[:4] == ["key", "run_id", "created", "status"]
    assert ResultRow.from_record({"key": "k", "status": "ok"}) == ResultRow(key="k", status="ok")


def test_labels_say_where_bits_come_from():
    assert curve_label("glc", "estimated") == "glc [estimated bits]" == curve_label("glc [estimated bits]", "estimated")
    assert curve_label("x265", "file") == "x265" and not counted_from_files("VTM [published bits]")


def test_keys_and_names_are_those_bench_has_always_made():
    """Golden values computed by bench before this code was reorganised: stored rows keep their keys,
    cached sequences and GIFs their names."""
    cfg = {"codec": "x265", "version": "libx265 (ffmpeg n7)", "options": {"preset": "medium", "threads": 1,
                                                                          "params": ""}, "knob": "qp"}
    assert result_key(cfg, "81ec0cfc9a1dc995", 0.002) == "1bcbf69dce0168e618b834e8"
    assert identity_hash(cfg) == "606599fcc2d6443f"
    assert imported_key("ab" * 32, "VTM", "uvg", "Beauty.yuv", "000") == "e1226976ec7749e54e8eaeee61b5fc1e"
    seq = Sequence("carphone", Path("/nonexistent/carphone.mp4"), 176, 144, Fraction(30), 382, 8, "demo",
                   {"sha256": "ff"})
    assert sequence_key(seq, SequenceOptions(15, 5)) == "1ff51c1e223828e2"
    assert GifSettings(160, None, 8).tag() == "f5a26384"
    codec = create_codec("x264")
    assert codec.config_key() == identity_hash(codec.config())


def test_a_stored_sequence_description_gives_the_prepared_sequence_back(tmp_path):
    seq = get_suite("demo").select(["carphone"])[0]
    prepared = prepare(seq, SequenceOptions(frames=3, fps_step=2, size=(96, 64)), tmp_path)
    stored = json.loads(json.dumps(prepared.describe()))  # as a row's config.sequence keeps it
    back = PreparedSequence.from_description(stored, tmp_path)
    assert back.yuv == prepared.yuv and back.describe() == prepared.describe()
    assert (back.format, back.fps, back.num_frames) == (prepared.format, prepared.fps, 3)
    assert back.options == prepared.options
