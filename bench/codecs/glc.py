"""GLC-Video (generative latent coding, Qi, Jia et al., TCSVT 2025) from a user's checkout.

Point bench at a clone of ``github.com/jzyustc/GLC`` and the authors' two checkpoints (GLC_image and
GLC_video from its release page)::

    [glc]
    checkout = "/opt/GLC"
    model_i = "/opt/GLC/checkpoints/GLC_image.pth.tar"
    model_p = "/opt/GLC/checkpoints/GLC_video.pth.tar"

The published code estimates bits from its entropy model and writes no bitstream, so every GLC row
has ``bits_source = estimated`` (shown in every table and plot legend), the stored "bitstream" is the
JSON record of the estimated bits per frame, and "decoding" runs the same deterministic pass again.
Knob: the quality index 0–63 (higher = more bits); one intra frame (intra period −1); the authors'
inputs are BT.709 RGB, which the driver makes from the YUV source with the harness's conversion.
"""
from __future__ import annotations

from pathlib import Path

from ..video import VideoFormat
from .base import Bitstream, Decoded, Knob
from .checkout_codec import CheckoutCodec


class GLC(CheckoutCodec):
    name = "glc"
    description = "GLC-Video (TCSVT 2025), your checkout and checkpoints: ESTIMATED bits, q_index"
    repo_url = "github.com/jzyustc/GLC"
    repo_folder = "glc"
    marker = "src/models/video_model.py"
    checkpoints = ("GLC_image.pth.tar", "GLC_video.pth.tar")
    driver = "bench.codecs.drivers.glc"
    bits_source = "estimated"
    knob = Knob("q_index", 0, 63, start=0, more_bits=+1, log_bpp_slope=0.05)
    def encode(self, seq, knob, workdir, deadline=None) -> Bitstream:
        workdir.mkdir(parents=True, exist_ok=True)
        record = workdir / f"glc_q{int(knob)}.estimate.json"
        rec = workdir / f"glc_q{int(knob)}_rec.yuv"
        cmd = self.driver_cmd("encode", seq, ["--bitstream", str(record.resolve()), "--input",
                                              str(Path(seq.yuv).resolve()), "--output", str(rec.resolve()),
                                              "--q-index", str(int(knob))])
        report, log, dt = self.run_driver(cmd, workdir, deadline, "encode")
        meta = {"variant": self.name, "device": self.options["device"], "precision": self.options["precision"],
                "encode_s_per_frame": dt / max(1, seq.num_frames), "reconstruction": str(rec.resolve()),
                "bits_note": "estimated from the model's likelihoods; no bitstream is written"}
        return Bitstream([record], knob, cmd, dt, log=log, meta=meta, bits_source="estimated",
                         estimated_bits=round(float(report["estimated_bits"])))

    def decode(self, bitstream, seq, workdir, deadline=None) -> Decoded:
        fmt = VideoFormat(seq.width, seq.height, seq.format.bit_depth)
        rec = Path(bitstream.meta.get("reconstruction", ""))
        if rec.name and rec.is_file() and rec.stat().st_size == fmt.frame_bytes * seq.num_frames:
            return Decoded(rec, fmt, ["(reconstruction written by the encoding pass)"], 0.0)
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / (bitstream.files[0].name.split(".")[0] + "_rec.yuv")
        cmd = self.driver_cmd("decode", seq, ["--bitstream", str(bitstream.files[0].resolve()), "--input",
                                              str(Path(seq.yuv).resolve()), "--output", str(out.resolve()),
                                              "--q-index", str(int(bitstream.knob))])
        _, _, dt = self.run_driver(cmd, workdir, deadline, "decode (re-run of the encoding pass)")
        return Decoded(out, fmt, cmd, dt)
