"""The source the metric benchmarks share: the demo suite's ``bigbuckbunny`` (real 1280x720 footage),
prepared, and its x265 decode (imported by the scripts beside this file)."""
from __future__ import annotations

from pathlib import Path

from bench.codecs import Decoded, create_codec
from bench.suites import get_suite
from bench.suites.sequences import PreparedSequence, SequenceOptions, prepare


def x265_decoded(workdir: Path, frames: int, fps_step: int = 1, qp: int = 38) -> tuple[PreparedSequence, Decoded]:
    """bigbuckbunny's first ``frames`` frames (every ``fps_step``-th), prepared in ``$BENCH_DATA_DIR``,
    and x265's decode of them at ``qp`` (files in ``workdir``)."""
    seq = get_suite("demo").select(["bigbuckbunny"])[0]
    p = prepare(seq, SequenceOptions(frames=frames, fps_step=fps_step))
    codec = create_codec("x265")
    return p, codec.decode(codec.encode(p, qp, workdir), p, workdir)
