"""GoL (Group-of-Latents), our implementation and our trained weights (see :mod:`bench.gol`).

The checkpoint shipped in ``bench/gol/weights/gol-small.pt`` is used unless ``BENCH_GOL_WEIGHTS``
or ``weights = "..."`` under ``[gol]`` in ``codecs/codecs.toml`` names another (e.g. a run of
``python -m bench.gol.train``). Knob: ``rung``, an index into the checkpoint's rate ladder, the
(mask, quality, codec) triples on the rate-quality front of a held-out clip sorted by bpp (see
:mod:`bench.gol.masks`), so one ordered integer sweeps the mask (1000, 1001, 1010, 1111), the
quality and, for a model with more than one I-latent codec, the codec. With the option ``choose =
"rd"`` (the default) a rung is a budget, the bpp the model card measured for it times the
sequence's pixels, which the encoder spends on the mask, quality and codec whose latents come
closest to the sequence's (:mod:`bench.gol.mode_decision`); the knob is then ``quarter_rung`` (4 x
the rung), since a budget may lie between two rungs. ``choose = "rung"`` codes the rung's own
triple. Bits are the size of the GoL file; decoding reads that file alone, and the
P-latents' noise is seeded from its header, so decoding is exact on a given machine. Runs on CPU
(slowly) or on a GPU (``--codec-opt gol.device=cuda``).

Encoder and decoder are checked against each other (:mod:`bench.codecs.agreement`): the encode
records the symbols GoL's encoder hands its rANS coder, and the encoder's reconstruction is GoL's
decode with those symbols passed straight through (:mod:`bench.codecs.drivers.gol`); decoding the
file must give the same frames.
"""
from __future__ import annotations

import math
import sys
import time
from functools import lru_cache
from pathlib import Path

from ..errors import CodecUnavailable, InputError
from ..gol import SHIPPED_WEIGHTS
from ..gol.masks import ladder_bpps, ladder_entry, ladder_label, rung_fields
from ..hashing import sha256_of
from ..tools import run_tool
from ..video import VideoFormat
from .base import Bitstream, Codec, Decoded, Knob
from .checkout_codec import last_json
from .config import codec_setting, where_to_configure


@lru_cache(maxsize=8)
def _checkpoint_facts(path: Path, mtime: float) -> dict:
    """The ladder and the model id of a checkpoint (read once per file version)."""
    import torch

    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
        ladder = [ladder_entry(e) for e in ck["ladder"]]
        bpps = ladder_bpps(ck["card"], ladder)
        span = [bpps[0], bpps[-1]]
        slope = math.log(span[1] / span[0]) / (len(ladder) - 1) if len(ladder) > 1 and all(span) else 0.1
        return {"ladder": ladder, "log_bpp_slope": max(slope, 0.01), "model_id": ck["model_id"],
                "ladder_bpp": all(bpps),
                "name": ck["card"].get("config", {}).get("run", {}).get("name", path.stem),
                "steps": ck["card"].get("steps", {})}
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is one line
        raise CodecUnavailable(f"codec gol: {path} is not a GoL checkpoint ({str(exc).splitlines()[0][:200]})") from None


class GoL(Codec):
    name = "gol"
    description = "GoL (Group-of-Latents), bench's own implementation and weights: rung of mask x quality"
    # threads 0: the CPU threads the harness gives each job; choose "rd": the encoder's mode decision
    # (bench.gol.mode_decision), "rung": the rung's own mask and quality, as the ladder says
    option_defaults = {"device": "auto", "threads": 0, "choose": "rd"}

    def __init__(self, **options):
        super().__init__(**options)
        if self.options["choose"] not in ("rd", "rung"):
            raise InputError(f"codec 'gol': option choose={self.options['choose']!r} is not rd or rung")
        if self.options["device"] == "auto":
            import torch

            self.options["device"] = "cuda" if torch.cuda.is_available() else "cpu"

    @property
    def knob(self) -> Knob:
        """``rung`` 0..len(ladder)-1 of the checkpoint's rate ladder, starting in its middle; the
        solver's first step is the ladder's mean d ln(bpp) per rung on the held-out clip. Under
        ``choose = "rd"`` the knob is ``quarter_rung``, 4 x the rung: a budget may lie between rungs."""
        try:
            f = self.facts()
        except CodecUnavailable:
            f = {"ladder": [None], "log_bpp_slope": 0.1}
        top, per = len(f["ladder"]) - 1, self._per_rung()
        return Knob("quarter_rung" if per > 1 else "rung", 0, per * top, start=per * (top // 2), more_bits=+1,
                    log_bpp_slope=f["log_bpp_slope"] / per)

    def _per_rung(self) -> int:
        """Knob steps per rung: 4 when the encoder chooses within a budget, which may lie between rungs
        where the model card measured the ladder's bpp (an unfinalised checkpoint has whole rungs)."""
        if self.options["choose"] != "rd":
            return 1
        try:
            return 4 if self.facts()["ladder_bpp"] else 1
        except CodecUnavailable:
            return 4

    def weights(self) -> Path:
        p = codec_setting(self.name, "weights") or SHIPPED_WEIGHTS
        if not p.is_file():
            raise CodecUnavailable(f"codec gol: weights {p} are missing ({where_to_configure(self.name, 'weights')}, "
                                   f"or train them: python -m bench.gol.train --config codecs/gol/gol-small.toml)")
        return p

    def facts(self) -> dict:
        p = self.weights()
        return _checkpoint_facts(p, p.stat().st_mtime)

    def check_available(self) -> None:
        self.facts()
        if str(self.options["device"]).startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise CodecUnavailable("codec gol: device cuda, and torch sees no GPU on this machine")

    def version(self) -> str:
        f = self.facts()
        return f"GoL {f['name']} (model id {f['model_id']})"

    def config(self) -> dict:
        d = super().config()
        f, p = self.facts(), self.weights()
        d["checkpoint"] = {"file": p.name, "sha256": sha256_of(p), "model_id": f["model_id"], "steps": f["steps"]}
        d["ladder"] = [ladder_label(e) for e in f["ladder"]]
        return d

    def _cmd(self, action: str, bitstream: Path, extra: list[str], symbols: list[str] = ()) -> list[str]:
        """GoL's driver, or (with ``symbols``: ``--record FILE`` or ``--replay FILE``) the same
        driver behind :mod:`bench.codecs.drivers.gol`."""
        import torch

        threads = int(self.options["threads"]) or torch.get_num_threads()
        driver = ["bench.codecs.drivers.gol", *symbols] if symbols else ["bench.gol.driver"]
        return [sys.executable, "-m", *driver, action, "--weights", str(self.weights()),
                "--bitstream", str(bitstream.resolve()), "--device", str(self.options["device"]),
                "--threads", str(threads), *extra]

    def encode(self, seq, knob, workdir, deadline=None) -> Bitstream:
        workdir.mkdir(parents=True, exist_ok=True)
        choose, rung = self.options["choose"], int(knob) / self._per_rung()
        out = workdir / f"gol_r{rung:g}_{choose}.gol"
        symbols = out.with_name(out.stem + "_symbols.npz")
        cmd = self._cmd("encode", out, ["--input", str(Path(seq.yuv).resolve()), "--width", str(seq.width),
                                        "--height", str(seq.height), "--frames", str(seq.num_frames),
                                        "--bit-depth", str(seq.format.bit_depth), "--rung", f"{rung:g}",
                                        "--choose", choose],
                        ["--record", str(symbols.resolve())])
        t0 = time.perf_counter()
        res = run_tool(cmd, deadline=deadline, cwd=workdir, what="gol encode")
        dt = time.perf_counter() - t0
        report = last_json(res.stdout)
        meta = {**rung_fields(report.get("mask"), report.get("q"), report.get("codec", 0)), "rung": report.get("rung"),
                "device": self.options["device"], "model_encode_s": report.get("encode_s")}
        if "tried" in report:
            meta["tried"] = report["tried"]
        return Bitstream([out], knob, cmd, dt, log=(res.stderr or b"").decode("utf-8", "replace")[-2000:], meta=meta,
                         encoder_side=symbols)

    def decode(self, bitstream, seq, workdir, deadline=None, _replay: Path | None = None) -> Decoded:
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / (bitstream.files[0].stem + ("_encoder.yuv" if _replay else "_dec.yuv"))
        cmd = self._cmd("decode", bitstream.files[0], ["--output", str(out.resolve()),
                                                       "--bit-depth", str(seq.format.bit_depth)],
                        ["--replay", str(_replay.resolve())] if _replay else [])
        t0 = time.perf_counter()
        run_tool(cmd, deadline=deadline, cwd=workdir, what="gol decode" + (" (encoder's symbols)" if _replay else ""))
        return Decoded(out, VideoFormat(seq.width, seq.height, seq.format.bit_depth), cmd, time.perf_counter() - t0)

    def encoder_reconstruction(self, bitstream, seq, workdir, deadline=None) -> Decoded | None:
        """GoL's decode fed the symbols the encoder coded (recorded at encode), not the file's."""
        symbols = bitstream.encoder_side
        if symbols is None or not symbols.is_file():
            return None
        return self.decode(bitstream, seq, workdir, deadline, _replay=symbols)
