"""Benchmark: what a codec defined by its command lines (``[command.NAME]``) costs over a built-in
adapter running the same encoder, and what its input/output conversions cost.

x265 through ffmpeg's command line (the x265 adapter's exact settings) against the built-in ``x265``
on the demo's ``bigbuckbunny`` (1280x720, 15 frames at 5 fps): seconds per encode and decode
(median of ``--repeat``), and that bits and decoded frames are identical. Then bench's own
conversions for command-line codecs at 1280x720: YUV -> PNG frames and PNG frames -> YUV, frames
per second. Writes ``reports/benchmarks/command_codec_overhead.json``.

    python benchmarks/command_codec_overhead.py [--repeat 3] [--qp 40]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.paths import reports_dir
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare
from bench.video.png_frames import read_png_frames, write_png_frames

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_command_codec import X265_CLI  # noqa: E402  (the definition the test checks, shared)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--qp", type=int, default=40)
    ap.add_argument("--output", type=Path, default=reports_dir() / "benchmarks" / "command_codec_overhead.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "codecs.toml").write_text(X265_CLI)
        os.environ["BENCH_CODECS_CONFIG"] = str(tmp / "codecs.toml")
        from bench.codecs import create_codec

        seq = prepare(get_suite("demo").select(["bigbuckbunny"])[0], SequenceOptions(frames=15, fps_step=5), tmp)
        out: dict = {"sequence": f"demo/bigbuckbunny {seq.width}x{seq.height}, {seq.num_frames} frames",
                     "qp": a.qp, "repeat": a.repeat}
        results = {}
        for name in ("x265", "x265-cli"):
            codec = create_codec(name)
            enc, dec = [], []
            for i in range(a.repeat):
                t0 = time.perf_counter()
                bs = codec.encode(seq, a.qp, tmp / name / f"e{i}")
                enc.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                d = codec.decode(bs, seq, tmp / name / f"d{i}")
                dec.append(time.perf_counter() - t0)
            results[name] = (bs.bits, d.path.read_bytes())
            out[name] = {"encode_s": statistics.median(enc), "decode_s": statistics.median(dec), "bits": bs.bits}
        out["identical_bits_and_frames"] = results["x265"] == results["x265-cli"]
        out["overhead_s_per_encode_and_decode"] = (out["x265-cli"]["encode_s"] + out["x265-cli"]["decode_s"]
                                                   - out["x265"]["encode_s"] - out["x265"]["decode_s"])
        t0 = time.perf_counter()
        n = write_png_frames(tmp / "png", seq.reader().frames())
        out["yuv_to_png_fps"] = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        n = sum(1 for _ in read_png_frames(tmp / "png"))
        out["png_to_yuv_fps"] = n / (time.perf_counter() - t0)
    a.output.parent.mkdir(parents=True, exist_ok=True)
    a.output.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
