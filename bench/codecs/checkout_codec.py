"""Learned codecs run from a user's checkout of the authors' code and their checkpoints.

bench ships none of that code or those weights. A subclass names the repository, the folder of its
variant inside it, a file that marks a checkout, the default checkpoint names, and the driver module
(``python -m bench.codecs.drivers.<variant>``) that imports the checkout's own classes in a separate
process, so the authors' code never shares an interpreter with the harness's metrics.

Where things are comes from :mod:`bench.codecs.config` (``BENCH_<CODEC>_CHECKOUT``, ``_MODEL_I``,
``_MODEL_P`` or a ``[codec]`` table in ``codecs/codecs.toml``); without a setting, ``codecs/<codec>``
and ``codecs/<repo_folder>`` (a clone of the whole repository) are looked at. Every row records the
variant, both checkpoints' SHA-256, the device and the precision.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import ClassVar

from ..errors import CodecUnavailable
from ..hashing import sha256_of
from ..paths import codecs_dir
from ..tools import run_tool
from .base import Codec
from .config import codec_setting, where_to_configure


class CheckoutCodec(Codec):
    repo_url: ClassVar[str] = ""
    repo_folder: ClassVar[str] = ""  # codecs/<repo_folder> is looked at for a clone of the repository
    variant_folder: ClassVar[str] = ""  # inside the repository ("" = its root)
    marker: ClassVar[str] = ""  # a file every checkout of the variant has
    checkpoints: ClassVar[tuple[str, str]] = ("", "")  # default file names under checkout/checkpoints
    needs_cuda: ClassVar[bool] = False
    driver: ClassVar[str] = ""  # module run as ``python -m``
    option_defaults = {"device": "auto", "precision": "fp32", "intra_period": -1, "threads": 1}

    def __init__(self, **options):
        super().__init__(**options)
        if self.options["device"] == "auto":
            import torch

            self.options["device"] = "cuda" if torch.cuda.is_available() or self.needs_cuda else "cpu"

    # --- where ---------------------------------------------------------------------------------
    def checkout(self) -> Path:
        setting = codec_setting(self.name, "checkout")
        roots = [setting] if setting else list(dict.fromkeys([codecs_dir() / self.name, codecs_dir() / self.repo_folder]))
        for cand in (c for r in roots for c in (r, r / self.variant_folder)):
            if (cand / self.marker).is_file():
                return cand
        raise CodecUnavailable(f"codec {self.name}: no checkout of {self.repo_url} at {' or '.join(map(str, roots))} (clone it, then "
                               f"{where_to_configure(self.name, 'checkout')})")

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
    def check_built(self, checkout: Path) -> None:
        """Raise CodecUnavailable if a compiled part the variant needs is missing."""

    def check_available(self) -> None:
        self.check_built(self.checkout())
        self.model_paths()
        dev = str(self.options["device"])
        if dev.startswith("cuda") or self.options["precision"] == "fp16":
            import torch

            if not torch.cuda.is_available():
                why = (f"{self.name} needs CUDA (the authors' code runs it on a GPU)" if self.needs_cuda
                       else "device cuda / fp16 needs CUDA")
                raise CodecUnavailable(f"codec {self.name}: {why}, and torch sees no GPU on this machine")

    def version(self) -> str:
        i, p = self.model_paths()
        return f"{self.name} (checkpoints i {sha256_of(i)[:12]} p {sha256_of(p)[:12]})"

    def config(self) -> dict:
        d = super().config()
        i, p = self.model_paths()
        d["checkpoints"] = {"i": {"file": i.name, "sha256": sha256_of(i)}, "p": {"file": p.name, "sha256": sha256_of(p)}}
        return d

    # --- running the driver --------------------------------------------------------------------
    def driver_cmd(self, action: str, seq, extra: list[str]) -> list[str]:
        """The driver's command line; encode and decode both get the intra period, which the decoder
        needs too where the stream does not say a frame's type (DCVC-DC)."""
        i, p = self.model_paths()
        return [sys.executable, "-m", self.driver, action, "--checkout", str(self.checkout().resolve()),
                "--model-i", str(i.resolve()), "--model-p", str(p.resolve()),
                "--width", str(seq.width), "--height", str(seq.height), "--frames", str(seq.num_frames),
                "--bit-depth", str(seq.format.bit_depth), "--device", str(self.options["device"]),
                "--precision", str(self.options["precision"]), "--threads", str(int(self.options["threads"])),
                "--intra-period", str(int(self.options["intra_period"])), *extra]

    def run_driver(self, cmd: list[str], workdir: Path, deadline, what: str) -> tuple[dict, str, float]:
        """(the driver's JSON report, the tail of its stderr, wall seconds)."""
        t0 = time.perf_counter()
        res = run_tool(cmd, deadline=deadline, cwd=workdir, what=f"{self.name} {what}")
        return last_json(res.stdout), (res.stderr or b"").decode("utf-8", "replace")[-2000:], time.perf_counter() - t0


def last_json(stdout: bytes | None) -> dict:
    for line in reversed((stdout or b"").decode("utf-8", "replace").splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    return {}
