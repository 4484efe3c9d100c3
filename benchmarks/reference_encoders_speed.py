"""Benchmark: encode and decode seconds per frame of the reference encoders (VTM, ECM) at a
low-bitrate QP, at 176x144 (carphone) and 1280x720 (bigbuckbunny) from the ``demo`` suite, so users
can plan sweeps. Writes ``reports/benchmarks/reference_encoders_speed.json``; codecs that are not
built here are listed with the reason.

    python benchmarks/reference_encoders_speed.py [--codecs vtm,ecm] [--qp 50] [--frames 5]
"""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

from bench.codecs import create_codec
from bench.errors import BenchError
from bench.paths import reports_dir
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--codecs", default="vtm,ecm")
    ap.add_argument("--sequences", default="carphone,bigbuckbunny")
    ap.add_argument("--qp", type=int, default=50)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--output", type=Path, default=reports_dir() / "benchmarks" / "reference_encoders_speed.json")
    a = ap.parse_args()
    suite = get_suite("demo")
    seqs = [prepare(s, SequenceOptions(frames=a.frames, fps_step=5)) for s in suite.select(a.sequences.split(","))]
    out = {"qp": a.qp, "frames": a.frames, "machine": platform.processor() or platform.machine(), "results": []}
    for name in a.codecs.split(","):
        codec = create_codec(name)
        try:
            codec.check_available()
        except BenchError as exc:
            out["results"].append({"codec": name, "unavailable": str(exc)})
            print(f"{name}: unavailable: {exc}")
            continue
        for s in seqs:
            with tempfile.TemporaryDirectory() as tmp:
                bs = codec.encode(s, a.qp, Path(tmp))
                dec = codec.decode(bs, s, Path(tmp))
                r = {"codec": name, "version": codec.version(), "sequence": s.name, "size": f"{s.width}x{s.height}",
                     "frames": s.num_frames, "qp": a.qp, "bpp": bs.bits / s.pixels,
                     "encode_s_per_frame": bs.encode_s / s.num_frames, "decode_s_per_frame": dec.decode_s / s.num_frames}
            out["results"].append(r)
            print(f"{name} {r['sequence']} {r['size']}: {r['encode_s_per_frame']:.2f} s/frame encode, "
                  f"{r['decode_s_per_frame']:.3f} s/frame decode, {r['bpp']:.4f} bpp at QP {a.qp}")
    a.output.parent.mkdir(parents=True, exist_ok=True)
    a.output.write_text(json.dumps(out, indent=1))
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
