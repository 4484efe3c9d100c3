"""Where bench keeps things. Every folder can be moved with an environment variable.

* ``datasets/`` (``BENCH_DATA_DIR``): downloaded archives, extracted sequences, and ``cache/``, the
  sequences converted to raw YUV at the options of a run.
* ``codecs/`` (``BENCH_CODECS_DIR``): external codec builds and checkouts (VTM, ECM, DCVC, GLC) and
  ``codecs.toml``, the file that points bench at them.
* ``~/.cache/bench/`` (``BENCH_CACHE_DIR``): network weights converted once for the metrics
  (``weights/``), keyed by the hash of the file they came from.
* ``reports/`` (``BENCH_REPORTS_DIR``): the results store ``results.sqlite``, kept bitstreams under
  ``bitstreams/``, benchmark figures under ``benchmarks/`` and generated HTML reports.
Relative defaults are resolved against the current directory.
"""
from __future__ import annotations

import os
from pathlib import Path


def _dir(env: str, default: str) -> Path:
    return Path(os.environ.get(env) or default).expanduser()


def data_dir() -> Path:
    return _dir("BENCH_DATA_DIR", "datasets")


def codecs_dir() -> Path:
    return _dir("BENCH_CODECS_DIR", "codecs")


def reports_dir() -> Path:
    return _dir("BENCH_REPORTS_DIR", "reports")


def default_store() -> Path:
    return Path(os.environ.get("BENCH_STORE") or reports_dir() / "results.sqlite")


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
