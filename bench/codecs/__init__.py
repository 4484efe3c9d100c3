"""Codec adapters, registered by name (``create_codec("x265", preset="slow")``)."""
from __future__ import annotations

from ..errors import InputError
from .base import Bitstream, Codec, Decoded, Knob

_REGISTRY: dict[str, type[Codec]] = {}


def register(cls: type[Codec]) -> type[Codec]:
    _REGISTRY[cls.name] = cls
    return cls


def codec_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def codec_class(name: str) -> type[Codec]:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown codec {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def create_codec(name: str, **options) -> Codec:
    return codec_class(name)(**options)


def _load_builtins() -> None:
    from . import ffmpeg_codecs  # noqa: F401  (registers x264, x265, vvenc, svt-av1, aom-av1)
    from . import reference  # noqa: F401  (registers vtm, ecm)
    from . import dcvc  # noqa: F401  (registers dcvc-fm, dcvc-dc, dcvc-rt)
    from . import glc  # noqa: F401  (registers glc)
    from . import gol  # noqa: F401  (registers gol)


__all__ = ["Bitstream", "Codec", "Decoded", "Knob", "codec_class", "codec_names", "create_codec", "register"]
