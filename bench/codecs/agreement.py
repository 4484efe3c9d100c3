"""Does the decoder make, from the file alone, the frames the encoder made?

A learned codec's encoder computes its own reconstruction (it needs it as the next frame's
reference), and its decoder must make the same frames from the bitstream file. They differ when
the entropy coder's build is broken: DCVC's C++ coder built against a pybind11 that predates
NumPy 2 writes streams of the right length and the wrong content under NumPy 2, and the decoder
then makes plausible-looking frames of the wrong content. :func:`check_decode` compares the two
(exactly: both come from the same conversion of the same network outputs) and raises
:class:`~bench.errors.CodecFailed` with one line when they differ; :func:`round_trip` does the same
on a tiny synthetic clip, for ``bench list codecs``.
"""
from __future__ import annotations

import math
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import CodecFailed
from ..suites.sequences import PreparedSequence, Sequence, SequenceOptions
from ..video import Frame, VideoFormat
from ..video.yuv import RawYuvReader, write_yuv
from .base import Bitstream, Codec, Decoded

MISMATCH = "encoder and decoder disagree: the entropy coder build is broken?"
AGREE = "decoded frames identical to the encoder's reconstruction"


def difference(decoded: Decoded, expected: Decoded, frames: int) -> str | None:
    """None when ``decoded`` holds the same ``frames`` frames as ``expected``, else where they first
    differ, in a few words."""
    if decoded.format != expected.format:
        return f"the decoder wrote {decoded.format}, the encoder {expected.format}"
    a, b = RawYuvReader(decoded.path, decoded.format), RawYuvReader(expected.path, expected.format)
    if len(a) < frames or len(b) < frames:
        return f"{len(a)} frames decoded, {len(b)} from the encoder, {frames} expected"
    bad = []
    for i, (fa, fb) in enumerate(zip(a.frames(0, frames), b.frames(0, frames))):
        if not all(np.array_equal(pa, pb) for pa, pb in ((fa.y, fb.y), (fa.u, fb.u), (fa.v, fb.v))):
            bad.append((i, fa, fb))
    if not bad:
        return None
    i, fa, fb = bad[0]
    diff = np.abs(fa.y.astype(np.int64) - fb.y.astype(np.int64))
    mse = float(np.mean(diff.astype(np.float64) ** 2))
    peak = (1 << fa.bit_depth) - 1
    psnr = f"{10 * math.log10(peak * peak / mse):.2f} dB" if mse else "identical luma"
    return (f"{len(bad)} of {frames} frames differ, first frame {i}: {int(np.count_nonzero(diff))} of {diff.size} "
            f"luma samples, largest difference {int(diff.max())}, PSNR-Y between them {psnr}")


def check_decode(codec: Codec, bitstream: Bitstream, decoded: Decoded, seq: PreparedSequence, workdir: Path,
                 deadline: float | None = None) -> str | None:
    """Compare ``decoded`` with the encoder's reconstruction of ``bitstream``: :data:`AGREE` when
    they are the same frames, None when the codec's encoder does not know its reconstruction;
    raises :class:`CodecFailed` (one line) when they differ."""
    expected = codec.encoder_reconstruction(bitstream, seq, workdir, deadline)
    if expected is None:
        return None
    try:
        diff = difference(decoded, expected, seq.num_frames)
    finally:
        expected.path.unlink(missing_ok=True)
    if diff:
        raise CodecFailed(f"{MISMATCH} {codec.name}'s decoder did not make the frames its encoder made "
                          f"from {bitstream.files[0].name} ({diff})", "", decoded.cmd)
    return AGREE


def tiny_clip(folder: Path, width: int = 64, height: int = 64, frames: int = 4) -> PreparedSequence:
    """A small synthetic clip (a moving gradient) as a prepared sequence in ``folder``."""
    fmt = VideoFormat(width, height, 8)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    out = []
    for t in range(frames):
        y = (xx * 2 + yy + 6 * t) % 220 + 16
        c = np.full((height // 2, width // 2), 128.0)
        out.append(Frame(y.astype(np.uint8), (c + 20 * np.sin(t)).astype(np.uint8), c.astype(np.uint8), 8))
    path = Path(folder) / f"round-trip_{width}x{height}.yuv"
    write_yuv(path, out)
    source = Sequence("round-trip", path, width, height, Fraction(25), frames, 8, "round-trip")
    return PreparedSequence("round-trip", "round-trip", path, fmt, Fraction(25), frames, SequenceOptions(),
                            source, "round-trip")


def round_trip(codec: Codec, deadline: float | None = None) -> str | None:
    """Encode a tiny clip, decode the file and compare with the encoder's frames (see
    :func:`check_decode`): what the check says, None when the codec cannot be checked so; raises
    :class:`CodecFailed` when encoder and decoder disagree (or the codec fails)."""
    if type(codec).encoder_reconstruction is Codec.encoder_reconstruction:
        return None
    with tempfile.TemporaryDirectory(prefix=f"bench-round-trip-{codec.name}-") as tmp:
        seq = tiny_clip(Path(tmp))
        bs = codec.encode(seq, codec.knob.start, Path(tmp) / "encoded", deadline)
        dec = codec.decode(bs, seq, Path(tmp) / "decoded", deadline)
        return check_decode(codec, bs, dec, seq, Path(tmp) / "encoder", deadline)
