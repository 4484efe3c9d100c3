"""One rung of a resolution ladder: a conventional codec coding the sequence at a lower resolution.

With the option ``scale`` below 1, the adapter codes a downscaled copy of the prepared sequence
(both dimensions times ``scale``, rounded to the encoder's multiple, Y'CbCr planes resized by
swscale with the filter ``scale_filter``, no colour conversion), decodes the bitstream at that
coded size and resizes the decoded frames back to the source's size with the same filter; the
harness measures there, against the source. Bits are the bitstream's, and bpp counts the
source's pixels, as for every codec. Each row records the scale and the coded size
(``config.codec.options.scale``, ``config.bitstream_meta.coded_size``).

``scale=1`` is the codec as it always was: the options of the ladder are left out of its
configuration, so its results keep their keys and a ladder's full-scale rung reuses them.
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
SCALE_OPTIONS = {"scale": 1.0, "scale_filter": "lanczos", "scales": ""}
LADDER_OPTIONS = ("scale", "scale_filter", "scales")
MIN_SIDE = 32  # no encoder here codes fewer luma samples than this on a side (VVenC fails at 16)


def scale_of(options: dict) -> float:
    try:
        s = float(options.get("scale", 1.0))
    except (TypeError, ValueError):
        raise InputError(f"scale={options.get('scale')!r}: expected a number in (0, 1]") from None
    if not 0 < s <= 1:
        raise InputError(f"scale={s:g}: expected a number in (0, 1] (1 codes the source's size)")
    return s


def key_options(options: dict) -> dict:
    """The options that identify a configuration: without ``scales``, and without the ladder's
    options at all at full scale (so full-scale results keep the keys they had)."""
    full = scale_of(options) == 1
    return {k: v for k, v in options.items()
            if k != "scales" and not (full and k in LADDER_OPTIONS)}


def coded_size(width: int, height: int, scale: float, multiple: int = 2) -> tuple[int, int]:
    """The size a sequence of ``width`` x ``height`` is coded at, at ``scale``: each side times
    ``scale``, rounded to a multiple of ``multiple``, at least :data:`MIN_SIDE`."""
    if scale == 1:
        return width, height

    def side(n: int) -> int:
        return max(MIN_SIDE, round(n * scale / multiple) * multiple)

    return min(width, side(width)), min(height, side(height))


def coded_sequence(seq: PreparedSequence, options: dict, multiple: int = 2,
                   deadline: float | None = None) -> PreparedSequence:
    """``seq`` as the encoder sees it at ``options['scale']``: itself at full scale, else its
    downscaled copy (made once, beside the prepared file)."""
    scale = scale_of(options)
    w, h = coded_size(seq.width, seq.height, scale, multiple)
    if (w, h) == (seq.width, seq.height):
        return seq
    flt = str(options.get("scale_filter", "lanczos"))
    sws_flags(flt)  # a bad filter name fails here, with one line
    path = Path(seq.yuv).with_name(f"{Path(seq.yuv).stem}_coded{w}x{h}_{flt}.yuv")
    make_once(path, lambda tmp: resize_raw(seq.yuv, seq.format, tmp, (w, h), flt, seq.num_frames, deadline),
              suffix=".yuv")
    return dataclasses.replace(seq, yuv=path, format=VideoFormat(w, h, seq.format.bit_depth),
                               key=f"{seq.key}-{w}x{h}-{flt}")


def scale_meta(seq: PreparedSequence, coded: PreparedSequence, options: dict) -> dict:
    """What a row records of its rung (empty at full scale)."""
    if coded is seq:
        return {}
    return {"scale": scale_of(options), "coded_size": [coded.width, coded.height],
            "source_size": [seq.width, seq.height], "scale_filter": options.get("scale_filter", "lanczos")}


def upscaled(decoded: Decoded, seq: PreparedSequence, options: dict, deadline: float | None = None) -> Decoded:
    """``decoded`` (at the coded size) resized back to ``seq``'s size; the resize is part of the
    decode (its command follows the decoder's after ``&&``, its time is in ``decode_s``)."""
    if (decoded.format.width, decoded.format.height) == (seq.width, seq.height):
        return decoded
    out = decoded.path.with_name(decoded.path.stem + "_up.yuv")
    t0 = time.perf_counter()
    cmd = resize_raw(decoded.path, decoded.format, out, (seq.width, seq.height),
                     str(options.get("scale_filter", "lanczos")), deadline=deadline)
    dt = time.perf_counter() - t0
    decoded.path.unlink(missing_ok=True)
    return Decoded(out, VideoFormat(seq.width, seq.height, decoded.format.bit_depth), [*decoded.cmd, "&&", *cmd],
                   decoded.decode_s + dt)
