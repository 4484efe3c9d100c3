"""The results store: one SQLite file, written one finished job at a time.

Durability: WAL journal with ``synchronous=FULL``; every result row is one transaction, committed
the moment the job finishes, so ``kill -9`` at any point loses nothing already stored and never
leaves a half-written row. Several processes may write at once (SQLite locks; writers wait).

The store's file is only ever opened through SQLite. A process that holds an SQLite connection and
also ``open()``s and ``close()``s the same file by other means loses every POSIX lock SQLite holds on
it (``close()`` drops all of the process's ``fcntl`` locks on the file): in WAL mode that is the
shared lock saying "someone still uses this database", so another process closing its last
connection believes it is the last one, checkpoints, and deletes the ``-wal`` and ``-shm`` files
under the first process, whose later commits then go to a deleted journal (lost rows, "disk I/O
error", "database disk image is malformed"). ``bench run`` holds one connection while each job opens
its own, so the header check below asks SQLite, never ``open()``.

Tables: ``runs`` (one row per ``bench run``: command line, configuration, environment),
``results`` (one row per codec x sequence x target, keyed by a hash of everything that
determines it; its columns are the fields of :class:`~.row.ResultRow`, the table of schema version
1), ``probes`` (every encode the bpp solver made, reused across targets and runs).
"""
from __future__ import annotations

import json
import math
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import InputError
from .row import ResultRow

SCHEMA_VERSION = 1
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started REAL, finished REAL, argv TEXT, config TEXT, environment TEXT);
CREATE TABLE IF NOT EXISTS results ({', '.join(ResultRow.sql_columns())});
CREATE INDEX IF NOT EXISTS results_by_codec ON results (codec, sequence, target_bpp);
CREATE TABLE IF NOT EXISTS probes (
    codec_key TEXT, sequence_key TEXT, knob REAL, bits INTEGER, bpp REAL, encode_s REAL, created REAL,
    PRIMARY KEY (codec_key, sequence_key, knob));
"""
SCHEMA_NAMES = {"meta", "runs", "results", "results_by_codec", "probes"}
RESULT_COLUMNS = ResultRow.columns()
JSON_COLUMNS = ResultRow.json_columns()


def _dumps(v: Any) -> str:
    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(y) for k, y in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(y) for y in x]
        return x
    return json.dumps(clean(v), default=str, allow_nan=False)


class Store:
    """The results store. ``readonly=True`` opens an existing store without ever writing to it
    (reports and exports), so readers never contend with a running sweep."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise InputError(f"{self.path}: no results store here (run `bench run` first, or pass --store)")
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        last = None
        for attempt in range(50):  # another process may be creating the same store right now
            try:
                self._open(readonly)
                return
            except sqlite3.OperationalError as exc:
                last = exc
                time.sleep(0.1 + 0.02 * attempt)
            except sqlite3.DatabaseError as exc:  # SQLite read the header: "file is not a database"
                if "not a database" in str(exc):
                    raise InputError(f"{self.path}: not a bench results store (not an SQLite file); "
                                     f"choose another --store") from None
                raise InputError(f"{self.path}: cannot open the results store ({exc})") from None
        raise InputError(f"{self.path}: cannot open the results store ({last})")

    def _open(self, readonly: bool) -> None:
        if readonly:
            self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=60,
                                         isolation_level=None)
        else:
            self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            self._conn.execute("PRAGMA busy_timeout=60000")
            names = self._schema_names()
            self._empty = "results" not in names  # a reader may come before the first writer
            if readonly:
                return
            if self._conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            if not SCHEMA_NAMES <= names:  # the whole schema in one transaction: readers see all of it or none
                with self._tx() as c:
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            c.execute(statement)
                    c.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                self._empty = False
        except sqlite3.Error:
            self._conn.close()
            raise

    def _schema_names(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    # --- runs --------------------------------------------------------------------------------
    def start_run(self, argv: list[str], config: dict, environment: dict) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self._tx() as c:
            c.execute("INSERT INTO runs VALUES (?,?,?,?,?,?)",
                      (run_id, time.time(), None, _dumps(argv), _dumps(config), _dumps(environment)))
        return run_id

    def finish_run(self, run_id: str) -> None:
        with self._tx() as c:
            c.execute("UPDATE runs SET finished=? WHERE run_id=?", (time.time(), run_id))

    def runs(self) -> list[dict]:
        if self._empty:
            return []
        cur = self._conn.execute("SELECT * FROM runs ORDER BY started")
        cols = [d[0] for d in cur.description]
        return [{k: (json.loads(v) if k in ("argv", "config", "environment") and v else v) for k, v in zip(cols, r)}
                for r in cur.fetchall()]

    # --- results -----------------------------------------------------------------------------
    def put_result(self, row: ResultRow) -> None:
        """Insert or replace one result row atomically (``created`` is now unless the row says)."""
        record = {**vars(row), "created": row.created or time.time()}
        values = [(_dumps(record[c]) if c in JSON_COLUMNS and record[c] is not None else record[c])
                  for c in RESULT_COLUMNS]
        values = [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]
        with self._tx() as c:
            c.execute(f"INSERT OR REPLACE INTO results ({','.join(RESULT_COLUMNS)}) VALUES "
                      f"({','.join('?' * len(RESULT_COLUMNS))})", values)

    def add_metrics(self, key: str, summary: dict, per_frame: dict, info: dict, note: dict) -> bool:
        """Add metric outputs to the stored row ``key`` in one transaction: only outputs the row lacks
        are written (its other columns and values stay as they are); ``info`` joins the configuration's
        ``metric_info`` and ``note`` its ``remeasured`` list. False if the row is gone."""
        with self._tx() as c:
            found = c.execute("SELECT metrics, per_frame, config FROM results WHERE key=?", (key,)).fetchone()
            if found is None:
                return False
            metrics, frames, config = (json.loads(v) if v else {} for v in found)
            new = [k for k in summary if k not in metrics]
            metrics.update({k: summary[k] for k in new})
            frames.update({k: per_frame[k] for k in new if k in per_frame})
            config.setdefault("metric_info", {}).update({k: v for k, v in info.items()
                                                        if k not in config["metric_info"]})
            config["metrics"] = list(dict.fromkeys(list(config.get("metrics") or []) + list(info)))
            config.setdefault("remeasured", []).append(note)
            c.execute("UPDATE results SET metrics=?, per_frame=?, config=? WHERE key=?",
                      (_dumps(metrics), _dumps(frames), _dumps(config), key))
        return True

    def status_of(self, keys: list[str]) -> dict[str, str]:
        """The status of each stored row among ``keys``."""
        return {k: s for k, s in self._select_keys("key, status", keys)}

    def rows_of(self, keys: list[str]) -> dict[str, tuple[str, str]]:
        """(run_id, status) of each stored row among ``keys``."""
        return {k: (r, s) for k, r, s in self._select_keys("key, run_id, status", keys)}

    def results_of(self, keys: list[str]) -> list[ResultRow]:
        """The stored rows among ``keys``."""
        rows = []
        for chunk in _chunks(keys):
            rows += self.results(f"key IN ({','.join('?' * len(chunk))})", tuple(chunk))
        return rows

    def _select_keys(self, columns: str, keys: list[str]) -> list[tuple]:
        if self._empty:
            return []
        out = []
        for chunk in _chunks(keys):
            out += self._conn.execute(f"SELECT {columns} FROM results WHERE key IN "
                                      f"({','.join('?' * len(chunk))})", chunk).fetchall()
        return out

    def results(self, where: str = "", params: tuple = ()) -> list[ResultRow]:
        if self._empty:
            return []
        cur = self._conn.execute(f"SELECT * FROM results {('WHERE ' + where) if where else ''} "
                                 f"ORDER BY suite, sequence, codec, target_bpp", params)
        cols = [d[0] for d in cur.description]
        rows = []
        for r in cur.fetchall():
            d = dict(zip(cols, r))
            for c in JSON_COLUMNS:
                if d.get(c):
                    d[c] = json.loads(d[c])
            rows.append(ResultRow.from_record(d))
        return rows

    # --- probes ------------------------------------------------------------------------------
    def probes(self, codec_key: str, sequence_key: str) -> dict[float, float]:
        cur = self._conn.execute("SELECT knob, bpp FROM probes WHERE codec_key=? AND sequence_key=?",
                                 (codec_key, sequence_key))
        return {float(k): float(b) for k, b in cur.fetchall()}

    def put_probe(self, codec_key: str, sequence_key: str, knob: float, bits: int, bpp: float,
                  encode_s: float) -> None:
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO probes VALUES (?,?,?,?,?,?,?)",
                      (codec_key, sequence_key, knob, bits, bpp, encode_s, time.time()))

    def integrity_ok(self) -> bool:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _chunks(keys: list[str], size: int = 500) -> list[list[str]]:
    """``keys`` in pieces small enough for one SQLite ``IN (...)`` list."""
    return [keys[i:i + size] for i in range(0, len(keys), size)]
