"""Codecs defined by their command lines in ``codecs.toml``, with no Python.

A table ``[command.NAME]`` in the codec configuration (``$BENCH_CODECS_CONFIG``, default
``codecs/codecs.toml``) makes a codec ``NAME`` that runs like the built-in adapters (the same
solver, store, report and GIF re-decoding)::

    [command.my-codec]
    description = "my codec, low delay"
    encode = ["python", "enc.py", "--in", "{input}", "--out", "{bitstream}", "--q", "{knob}",
              "--size", "{width}x{height}", "--frames", "{frames}"]
    decode = ["python", "dec.py", "{bitstream}", "{output}"]
    input = "yuv"            # yuv (raw 4:2:0), y4m or png (a folder of 00000.png …)
    output = "yuv"           # what the decoder writes, in the same formats
    knob = { name = "q", lo = 1, hi = 8, start = 4, integer = true, more_bits = "higher" }

Every element of ``encode``/``decode``/``version`` is one argument (never a shell string); the
placeholders in braces are filled per call (:data:`PLACEHOLDERS`, and the codec's ``options``).
The commands run in ``cwd``, by default the configuration file's folder, so a relative path in them
means what it means everywhere else in the file.
Bits are the size of the ``{bitstream}`` file, or with ``bits = "estimated"`` the number under
``bits_key`` in the JSON file ``bits_file`` (the rows then say ``estimated``). A ``version``
command's output, the SHA-256 of every file in ``inputs`` and the definition itself are part of the
codec's configuration, so results made with other weights or other command lines are never reused.
Errors in a definition are one line naming the file and key.
"""
from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

from ..errors import CodecFailed, CodecUnavailable, InputError
from ..hashing import identity_hash, sha256_of
from ..tools import ffmpeg_exe, run_tool
from ..video import VideoFormat
from ..video.png_frames import RANGES, png_files, read_png_frames, write_png_frames
from ..video.y4m import Y4MReader, write_y4m
from ..video.yuv import write_yuv
from .base import Bitstream, Codec, Decoded, Knob
from .config import settings

FORMATS = ("yuv", "y4m", "png")
PLACEHOLDERS = {
    "input": "the encoder's input: a raw YUV file, a .y4m file or a folder of PNG frames",
    "bitstream": "the file the encoder writes and the decoder reads",
    "output": "what the decoder writes: a raw YUV file, a .y4m file or a folder for PNG frames",
    "width": "frame width", "height": "frame height", "frames": "number of frames",
    "fps": "frame rate (25, or 30000/1001)", "fps_int": "frame rate rounded to a whole number",
    "bit_depth": "bit depth of {input} (and of a raw YUV {output})",
    "knob": "the value the solver chose", "workdir": "a folder of this call's own",
    "ffmpeg": "the ffmpeg bench uses (imageio-ffmpeg's)",
}
KEYS = {"description", "encode", "decode", "input", "output", "bit_depth", "output_bit_depth", "png_range",
        "knob", "bits", "bits_file", "bits_key", "version", "inputs", "timeout", "env", "cwd", "options",
        "bitstream_name"}
KNOB_KEYS = {"name", "lo", "hi", "start", "integer", "more_bits", "log_bpp_slope"}


@dataclass(frozen=True)
class CommandSpec:
    """One ``[command.NAME]`` table, checked."""

    name: str
    source: str  # the file it came from
    encode: tuple[str, ...]
    decode: tuple[str, ...]
    knob: Knob
    description: str = ""
    input: str = "yuv"
    output: str = "yuv"
    bit_depth: int | None = None  # of a raw YUV input; None: the sequence's
    output_bit_depth: int | None = None  # of a raw YUV output; None: the input's
    png_range: str = "full"
    bits: str = "file"
    bits_file: str = "{workdir}/bits.json"
    bits_key: str = "bits"
    version: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    timeout: float | None = None
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    options: tuple[tuple[str, object], ...] = ()
    bitstream_name: str = "bitstream.bin"
    definition: dict = field(default_factory=dict, compare=False, hash=False)

    def identity(self) -> str:
        """What determines the output: everything but the description, the timeout and the source."""
        d = {k: v for k, v in self.definition.items() if k not in ("description", "timeout")}
        return identity_hash(d)


def _fail(source: str, name: str, key: str, problem: str) -> InputError:
    return InputError(f"{source}: [command.{name}] {key}: {problem}")


def parse_spec(name: str, table: object, source: str) -> CommandSpec:
    """Check one ``[command.NAME]`` table; every problem is one line naming the key."""
    if not isinstance(table, dict):
        raise InputError(f"{source}: [command.{name}] must be a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise _fail(source, name, unknown[0], f"unknown key (known: {', '.join(sorted(KEYS))})")

    def args(key: str, required: bool = True) -> tuple[str, ...]:
        v = table.get(key)
        if v is None and not required:
            return ()
        if isinstance(v, str):
            raise _fail(source, name, key, "must be a list of arguments, not a shell string "
                                           f"(e.g. {json.dumps(v.split()[:3])})")
        if not isinstance(v, list) or not v or not all(isinstance(a, (str, int, float)) for a in v):
            raise _fail(source, name, key, "must be a non-empty list of arguments")
        return tuple(str(a) for a in v)

    def choice(key: str, options, default):
        v = table.get(key, default)
        if v not in options:
            raise _fail(source, name, key, f"{v!r}: expected one of {', '.join(map(str, options))}")
        return v

    options = table.get("options", {})
    if not isinstance(options, dict):
        raise _fail(source, name, "options", "must be a table of option = default value")
    env = table.get("env", {})
    if not isinstance(env, dict):
        raise _fail(source, name, "env", "must be a table of VARIABLE = \"value\"")
    spec = CommandSpec(
        name=name, source=source, encode=args("encode"), decode=args("decode"),
        knob=_knob(table.get("knob"), source, name), description=str(table.get("description", "")),
        input=choice("input", FORMATS, "yuv"), output=choice("output", FORMATS, "yuv"),
        bit_depth=choice("bit_depth", (None, 8, 10), None), output_bit_depth=choice("output_bit_depth", (None, 8, 10), None),
        png_range=choice("png_range", RANGES, "full"), bits=choice("bits", ("file", "estimated"), "file"),
        bits_file=str(table.get("bits_file", "{workdir}/bits.json")), bits_key=str(table.get("bits_key", "bits")),
        version=args("version", required=False), inputs=tuple(str(p) for p in _list(table, "inputs", source, name)),
        timeout=_positive(table.get("timeout"), source, name, "timeout"),
        env=tuple(sorted((str(k), str(v)) for k, v in env.items())),
        cwd=str(table["cwd"]) if table.get("cwd") is not None else None,
        options=tuple(sorted(options.items())), bitstream_name=str(table.get("bitstream_name", "bitstream.bin")),
        definition=dict(table))
    if "/" in spec.bitstream_name or not spec.bitstream_name:
        raise _fail(source, name, "bitstream_name", "must be a file name (no folder)")
    known = set(PLACEHOLDERS) | {k for k, _ in spec.options}
    for key in ("encode", "decode", "version", "bits_file", "cwd", "inputs", "env"):
        values = {"encode": spec.encode, "decode": spec.decode, "version": spec.version, "bits_file": [spec.bits_file],
                  "cwd": [spec.cwd] if spec.cwd else [], "inputs": spec.inputs, "env": [v for _, v in spec.env]}[key]
        for a in values:
            try:
                a.format_map(_Check(known))
            except KeyError as exc:
                raise _fail(source, name, key, f"{a!r}: unknown placeholder {{{exc.args[0]}}} "
                                               f"(known: {', '.join(sorted(known))})") from None
            except (ValueError, IndexError) as exc:
                raise _fail(source, name, key, f"{a!r}: {exc} (write {{{{ and }}}} for literal braces)") from None
    if "{bitstream}" not in " ".join(spec.encode) or "{bitstream}" not in " ".join(spec.decode):
        raise _fail(source, name, "encode", "encode and decode must both name {bitstream}")
    for key, cmd in (("encode", spec.encode), ("decode", spec.decode)):
        need = "{input}" if key == "encode" else "{output}"
        if need not in " ".join(cmd):
            raise _fail(source, name, key, f"must name {need}")
    return spec


class _Check(dict):
    def __init__(self, known):
        super().__init__({k: "" for k in known})

    def __missing__(self, key):
        raise KeyError(key)


def _list(table: dict, key: str, source: str, name: str) -> list:
    v = table.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _fail(source, name, key, "must be a list of file paths")
    return v


def _positive(v, source, name, key) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise _fail(source, name, key, f"{v!r}: must be a positive number of seconds")
    return float(v)


def _knob(t, source: str, name: str) -> Knob:
    if not isinstance(t, dict):
        raise _fail(source, name, "knob", "missing: a table { name, lo, hi, start, integer, more_bits }")
    unknown = sorted(set(t) - KNOB_KEYS)
    if unknown:
        raise _fail(source, name, f"knob.{unknown[0]}", f"unknown key (known: {', '.join(sorted(KNOB_KEYS))})")
    for k in ("name", "lo", "hi", "more_bits"):
        if k not in t:
            raise _fail(source, name, f"knob.{k}", "missing")
    nums = {}
    for k in ("lo", "hi", "start", "log_bpp_slope"):
        v = t.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise _fail(source, name, f"knob.{k}", f"{v!r}: must be a number")
        nums[k] = v
    lo, hi = float(nums["lo"]), float(nums["hi"])
    if not lo < hi:
        raise _fail(source, name, "knob.hi", f"{hi:g} must be above lo {lo:g}")
    start = float(nums["start"]) if nums["start"] is not None else (lo + hi) / 2
    if not lo <= start <= hi:
        raise _fail(source, name, "knob.start", f"{start:g} is outside {lo:g}..{hi:g}")
    more = t["more_bits"]
    if more not in ("higher", "lower"):
        raise _fail(source, name, "knob.more_bits", f"{more!r}: expected \"higher\" (a higher value gives more "
                                                    f"bits) or \"lower\" (a QP)")
    integer = t.get("integer", True)
    if not isinstance(integer, bool):
        raise _fail(source, name, "knob.integer", f"{integer!r}: expected true or false")
    sign = 1 if more == "higher" else -1
    # first step before two probes: the rate halves every 6 steps of an integer knob (a QP); a
    # continuous knob spans about six halvings of the rate over its range
    slope = nums["log_bpp_slope"]
    if slope is None:
        slope = sign * math.log(2) / 6 if integer else sign * 6 * math.log(2) / (hi - lo)
    elif slope == 0 or (slope > 0) != (sign > 0):
        raise _fail(source, name, "knob.log_bpp_slope", f"{slope:g} disagrees with more_bits = {more!r}")
    return Knob(str(t["name"]), lo, hi, start=start if not integer else float(round(start)), integer=integer,
                more_bits=sign, log_bpp_slope=float(slope))


def command_specs() -> dict[str, CommandSpec]:
    """Every ``[command.NAME]`` of the codec configuration, checked."""
    path, tables = settings()
    commands = tables.get("command", {})
    if not isinstance(commands, dict):
        raise InputError(f"{path}: [command] must hold one table per codec, [command.NAME]")
    return {name: parse_spec(name, t, str(path)) for name, t in commands.items()}


def command_class(spec: CommandSpec) -> type["CommandCodec"]:
    """The codec class of one definition."""
    return type(f"CommandCodec[{spec.name}]", (CommandCodec,),
                {"name": spec.name, "description": spec.description or f"command-line codec ({spec.source})",
                 "knob": spec.knob, "option_defaults": dict(spec.options), "bits_source": spec.bits, "spec": spec})


def _rebuild(spec: CommandSpec, options: dict) -> "CommandCodec":
    return command_class(spec)(**options)


class CommandCodec(Codec):
    """A codec run through the command lines of its :class:`CommandSpec`."""

    spec: ClassVar[CommandSpec]

    def __reduce__(self):  # the class is made at run time: workers rebuild it from the definition
        return _rebuild, (self.spec, self.options)

    # --- what it is -----------------------------------------------------------------------------
    def _base(self) -> Path:
        return Path(self.spec.source).parent

    def _path(self, text: str) -> Path:
        p = Path(text).expanduser()
        return p if p.is_absolute() else self._base() / p

    def _static(self) -> dict:
        return {**{k: str(v) for k, v in self.options.items()}, "ffmpeg": ffmpeg_exe()}

    def version(self) -> str:
        if getattr(self, "_version", None) is None:
            parts = []
            if self.spec.version:
                cmd = self._fill(self.spec.version, {**_blank(), **self._static()})
                res = run_tool(cmd, deadline=time.monotonic() + (self.spec.timeout or 60), cwd=self._cwd(),
                               env=self._env({}), what=f"{self.name} version")
                text = ((res.stdout or b"") + (res.stderr or b"")).decode("utf-8", "replace").strip()
                parts.append(" ".join(text.splitlines()[0].split()) if text else "(no version printed)")
            for p in self.spec.inputs:
                f = self._path(p.format_map(self._static()))
                parts.append(f"{f.name} sha256:{sha256_of(f)[:12]}")
            self._version = "; ".join(parts) or f"command definition {self.spec.identity()[:12]}"
        return self._version

    def config(self) -> dict:
        return {**super().config(), "command": self.spec.identity()}

    def check_available(self) -> None:
        for key in ("encode", "decode", "version"):
            cmd = getattr(self.spec, key)
            if not cmd:
                continue
            exe = cmd[0].format_map({**_blank(), **self._static()})
            if not ((("/" in exe) and (self._cwd() / exe).is_file()) or ("/" not in exe and shutil.which(exe))):
                raise CodecUnavailable(f"codec {self.name}: {key} program {exe!r} not found "
                                       f"([command.{self.name}] in {self.spec.source})")
        for p in self.spec.inputs:
            f = self._path(p.format_map(self._static()))
            if not f.is_file():
                raise CodecUnavailable(f"codec {self.name}: input file {f} not found ([command.{self.name}] inputs)")
        if not self._cwd().is_dir():
            raise CodecUnavailable(f"codec {self.name}: cwd {self._cwd()} is not a folder")
        self.version()

    # --- running --------------------------------------------------------------------------------
    def _cwd(self) -> Path:
        """Where the commands run: ``cwd``, else the configuration file's folder (so relative paths
        in the commands mean the same as relative paths elsewhere in the file)."""
        return self._path(self.spec.cwd.format_map(self._static())) if self.spec.cwd else self._base()

    def _env(self, values: dict) -> dict:
        return {k: v.format_map(values) for k, v in self.spec.env} if self.spec.env else {}

    def _deadline(self, deadline: float | None) -> float | None:
        own = time.monotonic() + self.spec.timeout if self.spec.timeout else None
        return min(d for d in (deadline, own) if d is not None) if (deadline or own) else None

    def _fill(self, cmd, values: dict) -> list[str]:
        return [a.format_map(values) for a in cmd]

    def _values(self, seq, workdir: Path, **more) -> dict:
        fps = Fraction(seq.fps)
        return {**self._static(), "width": seq.width, "height": seq.height, "frames": seq.num_frames,
                "fps": str(fps), "fps_int": max(1, round(float(fps))), "workdir": str(workdir.resolve()),
                "bit_depth": self.spec.bit_depth or seq.format.bit_depth, **more}

    def _input(self, seq, workdir: Path) -> Path:
        """The prepared sequence in the form the encoder reads, made once per work folder."""
        depth = self.spec.bit_depth or seq.format.bit_depth
        if self.spec.input == "yuv" and depth == seq.format.bit_depth:
            return Path(seq.yuv).resolve()
        suffix = {"yuv": f"_{depth}bit.yuv", "y4m": f"_{depth}bit.y4m", "png": f"_{self.spec.png_range}_png"}
        out = (workdir / f"input-{seq.key}{suffix[self.spec.input]}").resolve()
        if not out.exists():
            frames = (f.to_bit_depth(depth) for f in seq.reader().frames())
            tmp = out.with_name(out.name + ".part")
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
            if self.spec.input == "yuv":
                write_yuv(tmp, frames)
            elif self.spec.input == "y4m":
                write_y4m(tmp, frames, seq.fps)
            else:
                write_png_frames(tmp, frames, self.spec.png_range)
            tmp.rename(out)
        return out

    def _run(self, cmd, values, deadline, what):
        t0 = time.perf_counter()
        res = run_tool(cmd, deadline=self._deadline(deadline), cwd=self._cwd(), env=self._env(values), what=what)
        return res, time.perf_counter() - t0

    def encode(self, seq, knob, workdir, deadline=None) -> Bitstream:
        knob_text = str(int(knob)) if self.knob.integer else f"{knob:.6g}"
        call = (workdir / f"{self.name}_{self.knob.name}{knob_text}").resolve()
        shutil.rmtree(call, ignore_errors=True)
        call.mkdir(parents=True)
        bitstream = call / self.spec.bitstream_name
        values = self._values(seq, call, input=str(self._input(seq, workdir)), bitstream=str(bitstream),
                              knob=knob_text, output="")
        cmd = self._fill(self.spec.encode, values)
        res, dt = self._run(cmd, values, deadline, f"{self.name} encode")
        log = ((res.stdout or b"") + (res.stderr or b"")).decode("utf-8", "replace")[-4000:]
        if not bitstream.is_file() or bitstream.stat().st_size == 0:
            raise CodecFailed(f"{self.name} encode wrote no bitstream ({bitstream.name})", log, cmd)
        bs = Bitstream([bitstream], knob, cmd, dt, log=log)
        if self.spec.bits == "estimated":
            bs.bits_source = "estimated"
            bs.estimated_bits = self._estimated_bits(Path(self.spec.bits_file.format_map(values)), cmd)
            bs.meta["estimated_bits"] = bs.estimated_bits
        return bs

    def _estimated_bits(self, path: Path, cmd) -> int:
        try:
            value = json.loads(path.read_text())[self.spec.bits_key]
            bits = int(value)
        except FileNotFoundError:
            raise CodecFailed(f"{self.name} encode wrote no bits file {path}", "", cmd) from None
        except (ValueError, KeyError, TypeError):
            raise CodecFailed(f"{self.name}: {path} has no whole number under {self.spec.bits_key!r}", "", cmd) from None
        if bits <= 0:
            raise CodecFailed(f"{self.name}: {path}: {self.spec.bits_key} = {bits} is not a positive bit count", "", cmd)
        return bits

    def decode(self, bitstream, seq, workdir, deadline=None) -> Decoded:
        call = (workdir / f"{bitstream.files[0].stem}_{self.name}_dec").resolve()
        shutil.rmtree(call, ignore_errors=True)
        call.mkdir(parents=True)
        out = call / {"yuv": "output.yuv", "y4m": "output.y4m", "png": "frames"}[self.spec.output]
        if self.spec.output == "png":
            out.mkdir()
        in_depth = self.spec.bit_depth or seq.format.bit_depth
        values = self._values(seq, call, input="", bitstream=str(Path(bitstream.files[0]).resolve()),
                              output=str(out), knob=str(int(bitstream.knob)) if self.knob.integer else f"{bitstream.knob:.6g}",
                              bit_depth=self.spec.output_bit_depth or in_depth)
        cmd = self._fill(self.spec.decode, values)
        _, dt = self._run(cmd, values, deadline, f"{self.name} decode")
        return Decoded(*self._as_yuv(out, seq, call, cmd, self.spec.output_bit_depth or in_depth), cmd, dt)

    def _as_yuv(self, out: Path, seq, call: Path, cmd, depth: int) -> tuple[Path, VideoFormat]:
        """The decoder's output as raw YUV 4:2:0, its frame count and size checked."""
        what = f"{self.name} decode"
        if not out.exists():
            raise CodecFailed(f"{what} wrote no {out.name}", "", cmd)
        if self.spec.output == "yuv":
            fmt = VideoFormat(seq.width, seq.height, depth)
            n, extra = divmod(out.stat().st_size, fmt.frame_bytes)
            path = out
        else:
            if self.spec.output == "y4m":
                reader = Y4MReader(out)
                if (reader.format.width, reader.format.height) != (seq.width, seq.height):
                    raise CodecFailed(f"{what} wrote {reader.format.width}x{reader.format.height} frames, "
                                      f"expected {seq.width}x{seq.height}", "", cmd)
                frames, fmt = reader.frames(), reader.format
            else:
                if not png_files(out):
                    raise CodecFailed(f"{what} wrote no PNG frames in {out.name}/", "", cmd)
                fmt = VideoFormat(seq.width, seq.height, seq.format.bit_depth)
                frames = _checked_size(read_png_frames(out, fmt.bit_depth, self.spec.png_range), fmt, what, cmd)
            path = call / "output.yuv"
            n, extra = write_yuv(path, frames), 0
        if extra or n != seq.num_frames:
            raise CodecFailed(f"{what} wrote {n} frames{' and a partial one' if extra else ''} of "
                              f"{fmt.width}x{fmt.height}, expected {seq.num_frames}", "", cmd)
        return path, fmt


def _checked_size(frames, fmt: VideoFormat, what: str, cmd):
    for fr in frames:
        if fr.format.width != fmt.width or fr.format.height != fmt.height:
            raise CodecFailed(f"{what} wrote {fr.format.width}x{fr.format.height} PNG frames, "
                              f"expected {fmt.width}x{fmt.height}", "", cmd)
        yield fr


def _blank() -> dict:
    return {k: "" for k in PLACEHOLDERS}
