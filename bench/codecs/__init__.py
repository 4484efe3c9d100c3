"""Codec adapters, by name (``create_codec("x265", preset="slow")``): the built-in ones below, and
any an installed package adds through the ``bench.codecs`` entry point group (see :mod:`bench.registry`)."""
from __future__ import annotations

from ..registry import Registry
from .base import Bitstream, Codec, Decoded, Knob

CODECS = Registry("codec", Codec, {
    "x264": "bench.codecs.ffmpeg_codecs:X264",
    "x265": "bench.codecs.ffmpeg_codecs:X265",
    "vvenc": "bench.codecs.ffmpeg_codecs:VVenC",
    "svt-av1": "bench.codecs.ffmpeg_codecs:SvtAv1",
    "aom-av1": "bench.codecs.ffmpeg_codecs:AomAv1",
    "vtm": "bench.codecs.reference:VTM",
    "ecm": "bench.codecs.reference:ECM",
    "dcvc-fm": "bench.codecs.dcvc:DCVCFM",
    "dcvc-dc": "bench.codecs.dcvc:DCVCDC",
    "dcvc-rt": "bench.codecs.dcvc:DCVCRT",
    "glc": "bench.codecs.glc:GLC",
    "gol": "bench.codecs.gol:GoL",
})

codec_names = CODECS.names
codec_class = CODECS.get
create_codec = CODECS.create


__all__ = ["CODECS", "Bitstream", "Codec", "Decoded", "Knob", "codec_class", "codec_names", "create_codec"]
