"""`bench run`'s progress bar moves per stored target and says what is being encoded."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_the_bar_moves_per_target_within_one_job(tmp_path):
    # the bar polls the store; polling far more often than a target takes (about 0.4 s here) makes
    # every intermediate count visible however fast the machine is
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "BENCH_PROGRESS_POLL_S": "0.02"}
    res = subprocess.run([sys.executable, "-m", "bench.cli", "run", "--suite", "demo", "--sequences", "bikes",
                          "--codecs", "x265", "--bpp", "0.02,0.04,0.08", "--frames", "8", "--metrics", "psnr",
                          "--jobs", "1", "--store", str(tmp_path / "r.sqlite")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    # one (codec, sequence) job of three targets: the bar shows 1/3 and 2/3 before the job ends
    assert "1/3" in res.stderr and "2/3" in res.stderr and "3/3" in res.stderr
    assert "x265/bikes 0.02 bpp" in res.stderr or "x265/bikes 0.04 bpp" in res.stderr
    assert not list((tmp_path / ".locks").glob("*.now"))  # announcements end with their job
