"""VTM and ECM, the reference encoders of VVC and of the Enhanced Compression Model beyond it, run
from a user's own build (bench ships neither; see docs/codecs.md for building them).

Where: ``BENCH_VTM_ROOT`` / ``BENCH_ECM_ROOT`` or ``root`` in ``codecs/codecs.toml`` (a built
checkout: the binaries are found in ``bin/`` as ``EncoderAppStatic``/``EncoderApp``, or under
``bin/umake/…/release/`` or ``build/``), or the binaries themselves with ``BENCH_VTM_ENCODER`` /
``BENCH_VTM_DECODER`` (likewise ``encoder``/``decoder`` in the file), default ``codecs/vtm``.

Test conditions: the build's own configuration file (``config``: ``lowdelay`` (default),
``randomaccess``, ``lowdelay_P``, or a path), i.e. ``cfg/encoder_<config>_vtm.cfg`` or ``_ecm.cfg``
(early ECM releases ship the ``_vtm`` names; those are used when there is no ``_ecm`` file).
Low delay as in the learned-codec papers: one intra frame (``--IntraPeriod=-1
--DecodingRefreshType=2``); random access: ``IntraPeriod`` about one second, a multiple of the GOP
size, computed from the frame rate (ECM's and VTM's RA configurations fix it for 30 fps otherwise).
All intra (``config=intra``, the build's ``encoder_intra_*.cfg``): every frame an intra frame
(``--IntraPeriod=1``) and every frame coded (``--TemporalSubsampleRatio=1``: the CTC's all-intra
configurations code one frame in 8). Any configuration or ``params`` that would code fewer frames
than the sequence has (``TemporalSubsampleRatio`` above 1, ``FrameSkip``, ``FramesToBeEncoded``) is
refused before the first encode, and an encode whose log counts fewer frames fails.
The swept knob is ``--QP`` up to 63. ``scale`` codes a downscaled copy (:mod:`.scaled`). Input and output bit depth are the source's; the internal bit
depth is 10 (the CTC's), ``internal_bit_depth`` changes it. ``--ConformanceWindowMode=1`` pads sizes
that are not multiples of 8. The encoder writes no reconstruction (``-o /dev/null``); ``DecoderApp`` decodes the
bitstream, and the harness measures its output.

The encoder's log (per-POC type, QP, bits and PSNR, the SUMMARY line, total time) is parsed and
stored with each result (``config.bitstream_meta.encoder_log``) with the encode seconds per frame.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from functools import lru_cache
from pathlib import Path

from ..errors import CodecFailed, CodecUnavailable, InputError
from ..hashing import sha256_of
from ..paths import codecs_dir
from ..tools import run_tool
from ..video import VideoFormat
from .base import Bitstream, Codec, Decoded, Knob
from .config import codec_setting, where_to_configure
from .scaled import SCALE_OPTIONS, coded_sequence, key_options, scale_meta, upscaled

CONFIGS = ("lowdelay", "randomaccess", "lowdelay_P", "intra")

_POC = re.compile(r"^POC\s+(?P<poc>\d+)\b.*?\(\s*(?:(?P<nal>[A-Z_]+),\s*)?(?P<type>[IPB])-SLICE,.*?QP\s+(?P<qp>-?\d+)\s*\)"
                  r"\s+(?P<bits>\d+)\s+bits\s+\[Y\s+(?P<y>[\d.]+|inf)\s+dB\s+U\s+(?P<u>[\d.]+|inf)\s+dB\s+"
                  r"V\s+(?P<v>[\d.]+|inf)\s+dB\]", re.M)
# the first "Total Frames" table is the summary of all frames (VTM 23: under "LayerId 0"; earlier: "SUMMARY")
_SUMMARY = re.compile(r"^\s*Total Frames\s*\|.*\n\s*(?P<frames>\d+)\s+a\s+(?P<kbps>[\d.]+)\s+"
                      r"(?P<y>[\d.]+|inf)\s+(?P<u>[\d.]+|inf)\s+(?P<v>[\d.]+|inf)\s+(?P<yuv>[\d.]+|inf)", re.M)
_TOTAL_TIME = re.compile(r"Total Time:\s+(?P<s>[\d.]+)\s+sec\.(?:\s*\[user\]\s+(?P<elapsed>[\d.]+)\s+sec\.)?", re.M)
# options that make the encoder code fewer frames than it is given
_SUBSAMPLING = re.compile(r"^\s*(?:--)?(?P<key>TemporalSubsampleRatio|FrameSkip|FramesToBeEncoded)\s*[:=]\s*(?P<v>-?\d+)",
                          re.M)
_VERSION = re.compile(r"(?P<name>VTM|ECM|NextSoftware)[^\n]*?Version\s+(?P<v>[\w.\-]+)")


def parse_encoder_log(text: str) -> dict:
    """Per-POC lines (in coding order), the SUMMARY line and the total time of a VTM/ECM log."""
    frames = [{"poc": int(m["poc"]), "nal": m["nal"], "type": m["type"], "qp": int(m["qp"]), "bits": int(m["bits"]),
               "psnr_y": float(m["y"]), "psnr_u": float(m["u"]), "psnr_v": float(m["v"])} for m in _POC.finditer(text)]
    out: dict = {"frames": frames}
    s = _SUMMARY.search(text)
    if s:
        out["summary"] = {"frames": int(s["frames"]), "kbps": float(s["kbps"]), "psnr_y": float(s["y"]),
                          "psnr_u": float(s["u"]), "psnr_v": float(s["v"]), "psnr_yuv": float(s["yuv"])}
    t = _TOTAL_TIME.search(text)
    if t:
        out["total_s"] = float(t["elapsed"] or t["s"])
    return out


@lru_cache(maxsize=None)
def _printed_version(binary: str, mtime_ns: int) -> str:
    try:
        res = subprocess.run([binary, "--help"], capture_output=True, text=True, errors="replace", timeout=60,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CodecUnavailable(f"{binary}: cannot run it ({exc})") from None
    m = _VERSION.search(res.stdout + res.stderr)
    digest = sha256_of(Path(binary))[:12]
    return f"{m['name']} {m['v']} (binary {digest})" if m else f"unknown version (binary {digest})"


class ReferenceEncoder(Codec):
    """VTM-style encoder/decoder pair driven by configuration files and command-line overrides."""

    family: str = ""  # "vtm" or "ecm": binary names, config file suffix, settings table
    knob = Knob("qp", 0, 63, start=42)
    option_defaults = {"config": "lowdelay", "intra_period": "auto", "internal_bit_depth": 10, "params": "",
                       **SCALE_OPTIONS}
    size_multiple = 8  # VVC's minimum coding block (the conformance window pads the rest)

    # --- where ---------------------------------------------------------------------------------
    def _root(self) -> Path:
        return codec_setting(self.name, "root") or codecs_dir() / self.name

    def _binary(self, which: str) -> Path:
        app = {"encoder": "EncoderApp", "decoder": "DecoderApp"}[which]
        explicit = codec_setting(self.name, which)
        if explicit is not None:
            if not explicit.is_file():
                raise CodecUnavailable(f"codec {self.name}: {explicit}: no such {app} "
                                       f"({where_to_configure(self.name, which)})")
            return explicit
        root = self._root()
        candidates = [root / "bin" / f"{app}Static", root / "bin" / app, root / f"{app}Static", root / app]
        candidates += sorted(root.glob(f"bin/umake/*/*/release/{app}")) + sorted(root.glob(f"build/**/{app}"))
        for c in candidates:
            if c.is_file():
                return c
        raise CodecUnavailable(f"codec {self.name}: no {app} or {app}Static under {root} (build {self.name.upper()} "
                               f"from its official source, then {where_to_configure(self.name, 'root')})")

    def config_file(self) -> Path:
        cfg = str(self.options["config"])
        if cfg.endswith(".cfg"):
            p = Path(cfg).expanduser()
            if not p.is_file():
                raise InputError(f"codec {self.name}: configuration file {p} does not exist")
            return p
        if cfg not in CONFIGS:
            raise InputError(f"codec {self.name}: config={cfg!r}: expected one of {', '.join(CONFIGS)} or a .cfg path")
        folder = self._root() / "cfg"
        names = [f"encoder_{cfg}_{self.family}.cfg"] + ([f"encoder_{cfg}_vtm.cfg"] if self.family != "vtm" else [])
        for n in names:
            if (folder / n).is_file():
                return folder / n
        raise CodecUnavailable(f"codec {self.name}: no {names[0]} in {folder} (the configuration files of your "
                               f"{self.name.upper()} checkout; {where_to_configure(self.name, 'root')})")

    # --- what ----------------------------------------------------------------------------------
    def check_available(self) -> None:
        for which in ("encoder", "decoder"):
            self._binary(which)
        self.check_every_frame_coded(self.config_file())

    def is_intra(self, cfg: Path) -> bool:
        """All intra: ``config=intra``, or a configuration file whose IntraPeriod is 1."""
        if str(self.options["config"]) == "intra":
            return True
        m = re.search(r"^\s*IntraPeriod\s*:\s*(-?\d+)", cfg.read_text(errors="replace"), re.M)
        return bool(m) and int(m.group(1)) == 1

    def check_every_frame_coded(self, cfg: Path) -> None:
        """Refuse ``params`` that would code fewer frames than the sequence has (the configuration
        file's TemporalSubsampleRatio is overridden; its FrameSkip must be 0)."""
        for where, text in ((cfg.name, cfg.read_text(errors="replace")), ("params", str(self.options["params"]))):
            for m in _SUBSAMPLING.finditer(text.replace(" --", "\n--")):
                key, v = m["key"], int(m["v"])
                if where == cfg.name and key != "FrameSkip":
                    continue  # bench sets FramesToBeEncoded and TemporalSubsampleRatio itself
                if (key == "TemporalSubsampleRatio" and v != 1) or (key == "FrameSkip" and v != 0) \
                        or key == "FramesToBeEncoded":
                    raise InputError(f"codec {self.name}: {where} sets {key}={v}: the encoder would code fewer "
                                     f"frames than the sequence has (bench codes every frame; use --frames or "
                                     f"--fps-step to choose them)")

    def version(self) -> str:
        enc = self._binary("encoder")
        return _printed_version(str(enc), enc.stat().st_mtime_ns)

    def config(self) -> dict:
        d = {**super().config(), "options": dict(sorted(key_options(self.options).items()))}
        cfg = self.config_file()
        d["config_file"] = {"name": cfg.name, "sha256": sha256_of(cfg)[:16]}
        return d

    # --- command lines -------------------------------------------------------------------------
    def intra_period(self, fps: float, cfg: Path) -> int:
        ip = str(self.options["intra_period"])
        if ip != "auto":
            try:
                return int(ip)
            except ValueError:
                raise InputError(f"codec {self.name}: intra_period={ip!r}: expected auto or a whole number") from None
        if self.is_intra(cfg):
            return 1
        if "randomaccess" not in cfg.name:
            return -1
        m = re.search(r"^\s*GOPSize\s*:\s*(\d+)", cfg.read_text(errors="replace"), re.M)
        gop = int(m.group(1)) if m else 32
        return max(1, round(fps / gop)) * gop

    def encoder_args(self, seq, knob: float, bitstream: Path) -> list[str]:
        cfg = self.config_file()
        fps = float(seq.fps)
        ip = self.intra_period(fps, cfg)
        depth = seq.format.bit_depth
        # absolute paths: the encoder runs in its own work folder (it may write files beside itself)
        args = [str(self._binary("encoder").resolve()), "-c", str(cfg.resolve()), "-i", str(Path(seq.yuv).resolve()),
                "-b", str(bitstream.resolve()), "-o", os.devnull,  # no reconstruction (ECM writes rec.yuv otherwise)
                f"--SourceWidth={seq.width}", f"--SourceHeight={seq.height}", f"--FrameRate={max(1, round(fps))}",
                f"--FramesToBeEncoded={seq.num_frames}", "--InputChromaFormat=420", f"--InputBitDepth={depth}",
                f"--OutputBitDepth={depth}", f"--InternalBitDepth={int(self.options['internal_bit_depth'])}",
                f"--QP={int(knob)}", f"--IntraPeriod={ip}", "--ConformanceWindowMode=1"]
        if ip == -1:
            args.append("--DecodingRefreshType=2")
        if re.search(r"^\s*TemporalSubsampleRatio\s*:", cfg.read_text(errors="replace"), re.M):
            args.append("--TemporalSubsampleRatio=1")  # every frame coded (all-intra CTC: 1 in 8)
        args += [p for p in str(self.options["params"]).split() if p]
        return args

    def encode(self, seq, knob, workdir, deadline=None) -> Bitstream:
        source, seq = seq, coded_sequence(seq, self.options, self.size_multiple, deadline)
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / f"{self.name}_qp{int(knob)}.bin"
        cmd = self.encoder_args(seq, knob, out)
        t0 = time.perf_counter()
        res = run_tool(cmd, deadline=deadline, cwd=workdir, what=f"{self.name} encode")
        dt = time.perf_counter() - t0
        log = (res.stdout or b"").decode("utf-8", "replace")
        parsed = parse_encoder_log(log)
        if not out.is_file() or out.stat().st_size == 0:
            raise CodecUnavailable(f"{self.name} encode wrote no bitstream ({out})")
        coded = parsed.get("summary", {}).get("frames", len(parsed["frames"]) or None)
        if coded is not None and coded != seq.num_frames:
            raise CodecFailed(f"{self.name} coded {coded} of the sequence's {seq.num_frames} frames "
                              f"({Path(cmd[2]).name})", log[-2000:], cmd)
        meta = {"config_file": Path(cmd[2]).name, "encoder_log": parsed,
                "encode_s_per_frame": dt / max(1, seq.num_frames), **scale_meta(source, seq, self.options)}
        return Bitstream([out], knob, cmd, dt, log=log[-4000:], meta=meta)

    def decode(self, bitstream, seq, workdir, deadline=None) -> Decoded:
        source, seq = seq, coded_sequence(seq, self.options, self.size_multiple, deadline)
        workdir.mkdir(parents=True, exist_ok=True)
        fmt = VideoFormat(seq.width, seq.height, seq.format.bit_depth)
        out = workdir / (bitstream.files[0].stem + "_dec.yuv")
        cmd = [str(self._binary("decoder").resolve()), "-b", str(bitstream.files[0].resolve()), "-o", str(out.resolve()),
               "-d", str(fmt.bit_depth)]
        t0 = time.perf_counter()
        run_tool(cmd, deadline=deadline, cwd=workdir, what=f"{self.name} decode")
        return upscaled(Decoded(out, fmt, cmd, time.perf_counter() - t0), source, self.options, deadline)


class VTM(ReferenceEncoder):
    name = "vtm"
    family = "vtm"
    description = "H.266/VVC reference software (VTM), your build: low-delay B, one intra frame, QP"


class ECM(ReferenceEncoder):
    name = "ecm"
    family = "ecm"
    description = "Enhanced Compression Model beyond VVC (ECM), your build: low-delay B, one intra frame, QP"
