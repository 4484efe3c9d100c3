"""Where bench keeps things. Every folder can be moved with an environment variable.

* ``datasets/`` (``BENCH_DATA_DIR``): downloaded archives, extracted sequences, and ``cache/``, the
  sequences converted to raw YUV at the options of a run.
* ``codecs/`` (``BENCH_CODECS_DIR``): external codec builds and checkouts (VTM, ECM, DCVC, GLC) and
  ``codecs.toml``, the file that points bench at them.
* ``~/.cache/bench/`` (``BENCH_CACHE_DIR``): network weights converted once for the metrics
  (``weights/``), keyed by the hash of the file they came from.
* ``reports/`` (``BENCH_REPORTS_DIR``): the results store ``results.sqlite``, kept bitstreams under
  ``bitstreams/``, benchmark figures under ``benchmarks/`` and generated HTML reports.
* The results store can be anywhere (``--store`` or ``BENCH_STORE``): :func:`store_location` is the
  one place that decides where it is, and its kept bitstreams always lie beside it.
Relative defaults are resolved against the current directory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _dir(env: str, default: str) -> Path:
    return Path(os.environ.get(env) or default).expanduser()


def data_dir() -> Path:
    return _dir("BENCH_DATA_DIR", "datasets")


def codecs_dir() -> Path:
    return _dir("BENCH_CODECS_DIR", "codecs")


def reports_dir() -> Path:
    return _dir("BENCH_REPORTS_DIR", "reports")


@dataclass(frozen=True)
class StoreLocation:
    """A results store and the folders that belong to it, beside it: ``bitstreams/`` (the kept
    bitstream of every result, named by its key) and ``.locks/`` (who is running which job)."""

    path: Path

    @property
    def bitstreams(self) -> Path:
        return self.path.parent / "bitstreams"

    def lock(self, name: str) -> Path:
        return self.path.parent / ".locks" / f"{name}.lock"


def store_location(store: str | Path | None = None) -> StoreLocation:
    """Where the results store is, for every command: ``store`` (``--store``) if given, else
    ``$BENCH_STORE``, else ``results.sqlite`` in the reports folder."""
    return StoreLocation(Path(store or os.environ.get("BENCH_STORE") or reports_dir() / "results.sqlite").expanduser())


def cache_dir() -> Path:
    return _dir("BENCH_CACHE_DIR", "~/.cache/bench")


def write_benchmark_figures(result: dict, name: str, output: Path | None = None) -> Path:
    """Write a benchmark's figures as JSON (default ``reports/benchmarks/<name>.json``) and print them."""
    import json

    out = Path(output) if output else reports_dir() / "benchmarks" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return out
