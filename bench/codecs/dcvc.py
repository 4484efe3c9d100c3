"""DCVC (Microsoft's learned video codecs) from a user's checkout and checkpoints.

bench ships no DCVC code or weights. Point it at a checkout of ``github.com/microsoft/DCVC`` (the
variant's folder, e.g. ``DCVC-family/DCVC-FM``, or the repository root), whose entropy coder is built
(``src/models/MLCodec_rans*.so``, see the README), and at the checkpoints:

    [dcvc-fm]
    checkout = "/opt/DCVC/DCVC-family/DCVC-FM"
    model_i = "/opt/DCVC/DCVC-family/DCVC-FM/checkpoints/cvpr2024_image.pth.tar"   # default: checkout/checkpoints/…
    model_p = "/opt/DCVC/DCVC-family/DCVC-FM/checkpoints/cvpr2024_video.pth.tar"

(or ``BENCH_DCVC_FM_CHECKOUT``, ``BENCH_DCVC_FM_MODEL_I``, ``BENCH_DCVC_FM_MODEL_P``). Without a setting,
``codecs/dcvc-fm`` and a repository clone in ``codecs/dcvc`` are looked at.

Each encode and decode runs :mod:`bench.codecs.dcvc_driver` in its own process, which drives the
checkout's own model classes and stream writer as the authors' ``test_video.py --write_stream 1``
does, so bits are the size of a real bitstream file and the frames come from decoding that file
alone. Knob: the model's quality index ``q_index`` 0–63 (higher = more bits), the same for intra and
inter frames; intra period −1 (one intra frame), as in the authors' test conditions. Every row
records the variant, both checkpoints' SHA-256, the device and the precision.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..codec_config import codec_setting, where_to_configure
from ..errors import CodecUnavailable
from ..paths import codecs_dir
from ..tools import run_tool
from ..video import VideoFormat
from . import register
from .base import Bitstream, Codec, Decoded, Knob


class DCVC(Codec):
    variant_folder: str = ""  # inside the repository
    checkpoints: tuple[str, str] = ("", "")  # default file names under checkout/checkpoints
    needs_cuda: bool = False
    knob = Knob("q_index", 0, 63, start=0, more_bits=+1, log_bpp_slope=0.05)
    option_defaults = {"device": "auto", "precision": "fp32", "intra_period": -1, "threads": 1}

    def __init__(self, **options):
        super().__init__(**options)
        if self.options["device"] == "auto":
            import torch

            self.options["device"] = "cuda" if torch.cuda.is_available() else "cpu"

    # --- where ---------------------------------------------------------------------------------
    def checkout(self) -> Path:
        setting = codec_setting(self.name, "checkout")
        roots = [setting] if setting else [codecs_dir() / self.name, codecs_dir() / "dcvc"]
        root = roots[0]
        for cand in (c for r in roots for c in (r, r / self.variant_folder)):
            if (cand / "src" / "models" / "video_model.py").is_file():
                return cand
        raise CodecUnavailable(f"codec {self.name}: no DCVC checkout at {root} (clone github.com/microsoft/DCVC, "
                               f"then {where_to_configure(self.name, 'checkout')})")

    def model_paths(self) -> tuple[Path, Path]:
        out = []
        for key, default in zip(("model_i", "model_p"), self.checkpoints):
            p = codec_setting(self.name, key) or self.checkout() / "checkpoints" / default
            if not p.is_file():
                raise CodecUnavailable(f"codec {self.name}: checkpoint {p} is missing (download the authors' "
                                       f"checkpoints, or {where_to_configure(self.name, key)})")
            out.append(p)
        return out[0], out[1]

    # --- what ----------------------------------------------------------------------------------
    def check_available(self) -> None:
        co = self.checkout()
        if not list((co / "src" / "models").glob("MLCodec_rans*.so")) and \
                not list((co / "src" / "models").glob("MLCodec_rans*.pyd")):
            raise CodecUnavailable(f"codec {self.name}: the entropy coder of {co} is not built (no "
                                   f"src/models/MLCodec_rans*.so: cd {co}/src && mkdir build && cd build && "
                                   f"cmake ../cpp -DCMAKE_BUILD_TYPE=Release && make -j)")
        self.model_paths()
        dev = str(self.options["device"])
        if dev.startswith("cuda") or self.needs_cuda or self.options["precision"] == "fp16":
            import torch

            if not torch.cuda.is_available():
                why = f"{self.name} needs CUDA" if self.needs_cuda else "device cuda / fp16 needs CUDA"
                raise CodecUnavailable(f"codec {self.name}: {why}, and torch sees no GPU on this machine")

    def version(self) -> str:
        from ..metrics.weights import sha256_of

        i, p = self.model_paths()
        return f"{self.name} (checkpoints i {sha256_of(i)[:12]} p {sha256_of(p)[:12]})"

    def config(self) -> dict:
        from ..metrics.weights import sha256_of

        d = super().config()
        i, p = self.model_paths()
        d["checkpoints"] = {"i": {"file": i.name, "sha256": sha256_of(i)}, "p": {"file": p.name, "sha256": sha256_of(p)}}
        return d

    def capabilities(self) -> dict:
        return {**super().capabilities(), "bit_depths": [8, 10], "intra_period": self.options["intra_period"]}

    # --- running the driver --------------------------------------------------------------------
    def _driver(self, action: str, seq, bitstream: Path, extra: list[str]) -> list[str]:
        i, p = self.model_paths()
        return [sys.executable, "-m", "bench.codecs.dcvc_driver", action, "--checkout", str(self.checkout().resolve()),
                "--model-i", str(i.resolve()), "--model-p", str(p.resolve()), "--bitstream", str(bitstream.resolve()),
                "--width", str(seq.width), "--height", str(seq.height), "--frames", str(seq.num_frames),
                "--bit-depth", str(seq.format.bit_depth), "--device", str(self.options["device"]),
                "--precision", str(self.options["precision"]), "--threads", str(int(self.options["threads"])),
                *extra]

    def encode(self, seq, knob, workdir, deadline=None) -> Bitstream:
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / f"{self.name}_q{int(knob)}.bin"
        cmd = self._driver("encode", seq, out, ["--input", str(Path(seq.yuv).resolve()), "--q-index", str(int(knob)),
                                                "--intra-period", str(int(self.options["intra_period"]))])
        t0 = time.perf_counter()
        res = run_tool(cmd, deadline=deadline, cwd=workdir, what=f"{self.name} encode")
        dt = time.perf_counter() - t0
        report = _last_json(res.stdout)
        meta = {"variant": self.name, "device": self.options["device"], "precision": self.options["precision"],
                "model_encode_s": report.get("encode_s"), "encode_s_per_frame": dt / max(1, seq.num_frames)}
        return Bitstream([out], knob, cmd, dt, log=(res.stderr or b"").decode("utf-8", "replace")[-2000:], meta=meta)

    def decode(self, bitstream, seq, workdir, deadline=None) -> Decoded:
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / (bitstream.files[0].stem + "_dec.yuv")
        cmd = self._driver("decode", seq, bitstream.files[0], ["--output", str(out.resolve())])
        t0 = time.perf_counter()
        run_tool(cmd, deadline=deadline, cwd=workdir, what=f"{self.name} decode")
        return Decoded(out, VideoFormat(seq.width, seq.height, seq.format.bit_depth), cmd, time.perf_counter() - t0)


def _last_json(stdout: bytes | None) -> dict:
    for line in reversed((stdout or b"").decode("utf-8", "replace").splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    return {}


@register
class DCVCFM(DCVC):
    name = "dcvc-fm"
    description = "DCVC-FM (CVPR 2024), your checkout and checkpoints: one intra frame, q_index"
    variant_folder = "DCVC-family/DCVC-FM"
    checkpoints = ("cvpr2024_image.pth.tar", "cvpr2024_video.pth.tar")
