"""One rung of a resolution ladder: a conventional codec coding the sequence at a lower resolution
(and, below the lowest rate any resolution reaches, at a lower frame rate).

With the option ``scale`` below 1, the adapter codes a downscaled copy of the prepared sequence
(both dimensions times ``scale``, rounded to the encoder's multiple, Y'CbCr planes resized by
swscale with the filter ``scale_filter``, no colour conversion), decodes the bitstream at that
coded size and resizes the decoded frames back to the source's size with the same filter; the
harness measures there, against the source. Bits are the bitstream's, and bpp counts the
source's pixels, as for every codec. Each row records the scale and the coded size
(``config.codec.options.scale``, ``config.bitstream_meta.coded_size``).

With the option ``frame_step`` N above 1 (a *temporal rung*), the encoder codes frames 0, N, 2N, ...
of the (downscaled) sequence (told the source's frame rate: constant-QP coding does not use it);
after decoding, each decoded frame is
held for N frames (repeated; the last one for what is left), so the harness measures every source
frame, the repeats included. A frame costs every encoder here 25 to 40 bytes of headers however
small it is: at 0.001 bpp a 640x272 frame has 22 bytes, so no resolution reaches that rate with
every frame coded. Rows record ``frame_step`` and the number of coded frames
(``config.bitstream_meta.coded_frames``).

``scale=1`` and ``frame_step=1`` are the codec as it always was: the options of the ladder are left
out of its configuration, so its results keep their keys and a ladder's full-scale rung reuses them.
``scales`` (the ladder a sweep expands, :mod:`bench.run.ladder`) is never part of a configuration.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from ..errors import InputError
from ..files import make_once
from ..suites.sequences import PreparedSequence
from ..video import VideoFormat
from ..video.resample import resize_raw, sws_flags
from .base import Decoded

# every conventional adapter accepts these; ``scales`` is read by the sweep, not the adapter
SCALE_OPTIONS = {"scale": 1.0, "scale_filter": "lanczos", "frame_step": 1, "scales": ""}
LADDER_OPTIONS = ("scale", "scale_filter", "scales")
MAX_FRAME_STEP = 8
MIN_SIDE = 32  # no encoder here codes fewer luma samples than this on a side (VVenC fails at 16)


def scale_of(options: dict) -> float:
    try:
        s = float(options.get("scale", 1.0))
    except (TypeError, ValueError):
        raise InputError(f"scale={options.get('scale')!r}: expected a number in (0, 1]") from None
    if not 0 < s <= 1:
        raise InputError(f"scale={s:g}: expected a number in (0, 1] (1 codes the source's size)")
    return s


def frame_step_of(options: dict) -> int:
    raw = options.get("frame_step", 1)
    try:
        n = int(raw)
        if n != float(raw):
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(f"frame_step={raw!r}: expected a whole number from 1 to {MAX_FRAME_STEP}") from None
    if not 1 <= n <= MAX_FRAME_STEP:
        raise InputError(f"frame_step={n}: expected a whole number from 1 to {MAX_FRAME_STEP} "
                         f"(1 codes every frame)")
    return n


def key_options(options: dict) -> dict:
    """The options that identify a configuration: without ``scales``, and without the ladder's
    options at all at full scale and frame rate (so those results keep the keys they had)."""
    full, step = scale_of(options) == 1, frame_step_of(options)
    return {k: (step if k == "frame_step" else v) for k, v in options.items()
            if k != "scales" and not (full and k in LADDER_OPTIONS) and not (step == 1 and k == "frame_step")}


def coded_size(width: int, height: int, scale: float, multiple: int = 2) -> tuple[int, int]:
    """The size a sequence of ``width`` x ``height`` is coded at, at ``scale``: each side times
    ``scale``, rounded to a multiple of ``multiple``, at least :data:`MIN_SIDE`."""
    if scale == 1:
        return width, height

    def side(n: int) -> int:
        return max(MIN_SIDE, round(n * scale / multiple) * multiple)

    return min(width, side(width)), min(height, side(height))


def coded_frames(num_frames: int, step: int) -> int:
    """How many of ``num_frames`` frames a temporal rung of ``step`` codes (frames 0, step, ...)."""
    return -(-num_frames // step)


def pick_frames(src: Path, dst: Path, frame_bytes: int, step: int, num_frames: int) -> None:
    """Write frames 0, ``step``, 2 ``step`` ... of the raw file ``src`` to ``dst``."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        for i in range(0, num_frames, step):
            fi.seek(i * frame_bytes)
            frame = fi.read(frame_bytes)
            if len(frame) != frame_bytes:
                raise InputError(f"{src}: frame {i} is cut short ({len(frame)} of {frame_bytes} bytes)")
            fo.write(frame)


def hold_frames(src: Path, dst: Path, frame_bytes: int, step: int, num_frames: int) -> None:
    """Write ``num_frames`` frames to ``dst``: each frame of ``src`` held for ``step`` frames."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        frame = b""
        for i in range(num_frames):
            if i % step == 0:
                frame = fi.read(frame_bytes)
                if len(frame) != frame_bytes:
                    raise InputError(f"{src}: the decoder wrote {i // step} frames, "
                                     f"{coded_frames(num_frames, step)} were coded")
            fo.write(frame)


def coded_sequence(seq: PreparedSequence, options: dict, multiple: int = 2,
                   deadline: float | None = None) -> PreparedSequence:
    """``seq`` as the encoder sees it at ``options['scale']`` and ``options['frame_step']``: itself
    at full scale and frame rate, else its downscaled and/or subsampled copy (made once, beside the
    prepared file)."""
    scale, step = scale_of(options), frame_step_of(options)
    w, h = coded_size(seq.width, seq.height, scale, multiple)
    if (w, h) == (seq.width, seq.height) and step == 1:
        return seq
    coded = seq
    if step > 1:
        n = coded_frames(seq.num_frames, step)
        path = Path(seq.yuv).with_name(f"{Path(seq.yuv).stem}_every{step}.yuv")
        make_once(path, lambda tmp: pick_frames(seq.yuv, tmp, seq.format.frame_bytes, step, seq.num_frames),
                  suffix=".yuv")
        # the encoder is told the source's frame rate: constant-QP coding does not use it, and VVenC
        # refuses rates under 1 fps (the demo's 5 fps every 6th frame)
        coded = dataclasses.replace(seq, yuv=path, num_frames=n, key=f"{seq.key}-every{step}")
    if (w, h) != (seq.width, seq.height):
        flt = str(options.get("scale_filter", "lanczos"))
        sws_flags(flt)  # a bad filter name fails here, with one line
        src = coded
        path = Path(src.yuv).with_name(f"{Path(src.yuv).stem}_coded{w}x{h}_{flt}.yuv")
        make_once(path, lambda tmp: resize_raw(src.yuv, src.format, tmp, (w, h), flt, src.num_frames, deadline),
                  suffix=".yuv")
        coded = dataclasses.replace(src, yuv=path, format=VideoFormat(w, h, seq.format.bit_depth),
                                    key=f"{src.key}-{w}x{h}-{flt}")
    return coded


def scale_meta(seq: PreparedSequence, coded: PreparedSequence, options: dict) -> dict:
    """What a row records of its rung (empty at full scale and frame rate)."""
    if coded is seq:
        return {}
    meta = {}
    if (coded.width, coded.height) != (seq.width, seq.height):
        meta = {"scale": scale_of(options), "coded_size": [coded.width, coded.height],
                "source_size": [seq.width, seq.height], "scale_filter": options.get("scale_filter", "lanczos")}
    if coded.num_frames != seq.num_frames:
        meta |= {"frame_step": frame_step_of(options), "coded_frames": coded.num_frames,
                 "source_frames": seq.num_frames, "frames_between": "held (repeated)"}
    return meta


def upscaled(decoded: Decoded, seq: PreparedSequence, options: dict, deadline: float | None = None) -> Decoded:
    """``decoded`` (at the coded size and frame rate) resized back to ``seq``'s size, each frame
    held for ``frame_step`` frames; both are part of the decode (the resize's command follows the
    decoder's after ``&&``, their time is in ``decode_s``)."""
    step = frame_step_of(options)
    if (decoded.format.width, decoded.format.height) != (seq.width, seq.height):
        out = decoded.path.with_name(decoded.path.stem + "_up.yuv")
        t0 = time.perf_counter()
        cmd = resize_raw(decoded.path, decoded.format, out, (seq.width, seq.height),
                         str(options.get("scale_filter", "lanczos")), deadline=deadline)
        dt = time.perf_counter() - t0
        decoded.path.unlink(missing_ok=True)
        decoded = Decoded(out, VideoFormat(seq.width, seq.height, decoded.format.bit_depth),
                          [*decoded.cmd, "&&", *cmd], decoded.decode_s + dt)
    if step > 1:
        out = decoded.path.with_name(decoded.path.stem + f"_held{step}.yuv")
        t0 = time.perf_counter()
        hold_frames(decoded.path, out, decoded.format.frame_bytes, step, seq.num_frames)
        dt = time.perf_counter() - t0
        decoded.path.unlink(missing_ok=True)
        decoded = Decoded(out, decoded.format, [*decoded.cmd, "&&", f"(each frame held for {step})"],
                          decoded.decode_s + dt)
    return decoded
