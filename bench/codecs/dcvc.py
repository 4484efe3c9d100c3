"""DCVC (Microsoft's learned video codecs) from a user's checkout and checkpoints.

Point bench at a clone of ``github.com/microsoft/DCVC`` (the repository root or the variant's folder,
e.g. ``DCVC-family/DCVC-FM``) whose compiled parts are built (see docs/codecs.md), and at the authors'
checkpoints::

    [dcvc-fm]
    checkout = "/opt/DCVC"
    model_i = "/opt/DCVC/DCVC-family/DCVC-FM/checkpoints/cvpr2024_image.pth.tar"   # default: <variant>/checkpoints/…
    model_p = "/opt/DCVC/DCVC-family/DCVC-FM/checkpoints/cvpr2024_video.pth.tar"

(or ``BENCH_DCVC_FM_CHECKOUT`` …). A clone in ``codecs/dcvc`` is found by itself.

Variants: ``dcvc-fm`` (CVPR 2024) and ``dcvc-dc`` (CVPR 2023) run on CPU or GPU; ``dcvc-rt``
(CVPR 2025) needs CUDA. Each encode and decode runs :mod:`bench.codecs.drivers.dcvc` in its own
process, which drives the checkout's own model classes and stream writers as the authors'
``test_video.py`` does with stream writing on, so bits are the size of a real file and the frames come
from decoding that file alone. Knob: the model's quality index 0–63 (higher = more bits), the same for
intra and inter frames; intra period −1 (one intra frame) as in the authors' test conditions.

DCVC-FM's and DCVC-DC's encoders also write the frames they reconstructed; every decode is checked
against them (:mod:`bench.codecs.agreement`), so an entropy coder built wrongly (its pybind11 older
than NumPy 2, see docs/codecs.md) fails its rows instead of storing plausible wrong frames.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import CodecUnavailable
from ..video import VideoFormat
from .base import Bitstream, Decoded, Knob
from .checkout_codec import CheckoutCodec


class DCVC(CheckoutCodec):
    repo_url = "github.com/microsoft/DCVC"
    repo_folder = "dcvc"
    marker = "src/models/video_model.py"
    driver = "bench.codecs.drivers.dcvc"
    variant: str = ""  # the driver's name of the variant
    encoder_writes_frames: bool = True  # the driver's --reconstruction (not DCVC-RT's)
    knob = Knob("q_index", 0, 63, start=0, more_bits=+1, log_bpp_slope=0.05)

    def check_built(self, co: Path) -> None:
        models = co / "src" / "models"
        if not list(models.glob("MLCodec_rans*.so")) and not list(models.glob("MLCodec_rans*.pyd")):
            raise CodecUnavailable(f"codec {self.name}: the entropy coder of {co} is not built (no "
                                   f"src/models/MLCodec_rans*.so: cd {co}/src && mkdir build && cd build && "
                                   f"cmake ../cpp -DCMAKE_BUILD_TYPE=Release && make -j)")

    def driver_cmd(self, action: str, seq, extra: list[str]) -> list[str]:
        return super().driver_cmd(action, seq, ["--variant", self.variant, *extra])

    def encode(self, seq, knob, workdir, deadline=None) -> Bitstream:
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / f"{self.name}_q{int(knob)}.bin"
        rec = workdir / f"{self.name}_q{int(knob)}_encoder.yuv" if self.encoder_writes_frames else None
        cmd = self.driver_cmd("encode", seq, ["--bitstream", str(out.resolve()), "--input", str(Path(seq.yuv).resolve()),
                                              "--q-index", str(int(knob)),
                                              *(["--reconstruction", str(rec.resolve())] if rec else [])])
        report, log, dt = self.run_driver(cmd, workdir, deadline, "encode")
        meta = {"variant": self.name, "device": self.options["device"], "precision": self.options["precision"],
                "model_encode_s": report.get("encode_s"), "encode_s_per_frame": dt / max(1, seq.num_frames)}
        return Bitstream([out], knob, cmd, dt, log=log, meta=meta, encoder_side=rec)

    def encoder_reconstruction(self, bitstream, seq, workdir, deadline=None) -> Decoded | None:
        """The frames the encoder wrote beside the bitstream (FM, DC)."""
        rec = bitstream.encoder_side
        if rec is None or not rec.is_file():
            return None
        return Decoded(rec, VideoFormat(seq.width, seq.height, seq.format.bit_depth), bitstream.cmd, 0.0)

    def decode(self, bitstream, seq, workdir, deadline=None) -> Decoded:
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / (bitstream.files[0].stem + "_dec.yuv")
        cmd = self.driver_cmd("decode", seq, ["--bitstream", str(bitstream.files[0].resolve()),
                                              "--output", str(out.resolve())])
        _, _, dt = self.run_driver(cmd, workdir, deadline, "decode")
        return Decoded(out, VideoFormat(seq.width, seq.height, seq.format.bit_depth), cmd, dt)


class DCVCFM(DCVC):
    name = "dcvc-fm"
    description = "DCVC-FM (CVPR 2024), your checkout and checkpoints: one intra frame, q_index"
    variant = "fm"
    variant_folder = "DCVC-family/DCVC-FM"
    checkpoints = ("cvpr2024_image.pth.tar", "cvpr2024_video.pth.tar")


class DCVCDC(DCVC):
    name = "dcvc-dc"
    description = "DCVC-DC (CVPR 2023, YUV 4:2:0 models), your checkout and checkpoints: one intra frame, q_index"
    variant = "dc"
    variant_folder = "DCVC-family/DCVC-DC"
    checkpoints = ("cvpr2023_image_yuv420_psnr.pth.tar", "cvpr2023_video_yuv420_psnr.pth.tar")


class DCVCRT(DCVC):
    name = "dcvc-rt"
    description = "DCVC-RT (CVPR 2025), your checkout and checkpoints, CUDA only: one intra frame, qp"
    variant = "rt"
    variant_folder = "DCVC-family/DCVC-RT"
    checkpoints = ("cvpr2025_image.pth.tar", "cvpr2025_video.pth.tar")
    needs_cuda = True
    encoder_writes_frames = False
    option_defaults = {**CheckoutCodec.option_defaults, "precision": "fp16"}

    def check_built(self, co: Path) -> None:
        import importlib.util

        if importlib.util.find_spec("MLCodec_extensions_cpp") is None:
            raise CodecUnavailable(f"codec {self.name}: the entropy coder of {co} is not installed in this Python "
                                   f"(no module MLCodec_extensions_cpp: cd {co}/src/cpp && pip install .)")
