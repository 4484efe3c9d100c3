from pathlib import Path

import numpy as np
import pytest

from bench.video import Frame

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
RAW = SHARED / "clips" / "raw"


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    """Every test gets its own datasets/ and reports/ folders."""
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("BENCH_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("BENCH_STORE", raising=False)
    return tmp_path


def random_frame(w, h, bit_depth=8, seed=0) -> Frame:
    rng = np.random.default_rng(seed)
    hi = 1 << bit_depth
    dt = np.uint8 if bit_depth == 8 else np.uint16
    cw, ch = (w + 1) // 2, (h + 1) // 2
    return Frame(rng.integers(0, hi, (h, w)).astype(dt), rng.integers(0, hi, (ch, cw)).astype(dt),
                 rng.integers(0, hi, (ch, cw)).astype(dt), bit_depth)


def shared_clip(name: str) -> Path:
    p = RAW / name
    if not p.exists():
        pytest.skip(f"reference clip {name} not available (../shared/clips/raw is for development and CI only)")
    return p
