"""Codec adapters, by name (``create_codec("x265", preset="slow")``): the built-in ones below, any
an installed package adds through the ``bench.codecs`` entry point group (see :mod:`bench.registry`),
and the command-line codecs of the codec configuration's ``[command.NAME]`` tables
(:mod:`bench.codecs.command`), read again on every lookup."""
from __future__ import annotations

from ..registry import Registry
from ..errors import InputError
from .base import Bitstream, Codec, Decoded, Knob
from .command import command_class, command_specs


class CodecRegistry(Registry):
    """The registry, plus the command-line codecs of the configuration file."""

    def specs(self) -> dict[str, tuple[str, str]]:
        specs = dict(super().specs())
        for name, spec in command_specs().items():
            if name in specs:
                raise InputError(f"{spec.source}: [command.{name}] takes the name of a codec already registered "
                                 f"({specs[name][1]}); rename it")
            specs[name] = (f"bench.codecs.command:{name}", f"command in {spec.source}")
        return specs

    def get(self, name: str) -> type:
        name = self.canonical(name)
        if self.specs()[name][1].startswith("command in "):
            return command_class(command_specs()[name])
        return super().get(name)


CODECS = CodecRegistry("codec", Codec, {
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
