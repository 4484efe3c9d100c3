"""Where external codecs live on this machine: environment variables, then ``codecs.toml``.

``codecs.toml`` (``$BENCH_CODECS_CONFIG``, default ``codecs/codecs.toml``) has one table per codec::

    [vtm]
    root = "/opt/VVCSoftware_VTM"      # a built checkout: bin/EncoderAppStatic, cfg/
    # encoder = "/opt/vtm/bin/EncoderAppStatic"   # or the binaries themselves
    # decoder = "/opt/vtm/bin/DecoderAppStatic"

An environment variable ``BENCH_<CODEC>_<KEY>`` (``BENCH_VTM_ROOT``, ``BENCH_ECM_ENCODER``) wins over
the file. Relative paths in the file are relative to the file's folder.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from ..errors import InputError
from ..paths import codecs_dir


def config_file() -> Path:
    return Path(os.environ.get("BENCH_CODECS_CONFIG") or codecs_dir() / "codecs.toml").expanduser()


def _load(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None


def settings() -> tuple[Path, dict]:
    """The configuration file and everything in it (empty when there is none)."""
    path = config_file()
    return path, _load(path)


def env_name(codec: str, key: str) -> str:
    return f"BENCH_{re.sub(r'[^A-Z0-9]', '_', codec.upper())}_{key.upper()}"


def codec_setting(codec: str, key: str) -> Path | None:
    """The path ``key`` (root, encoder, decoder, checkout, checkpoint ...) configured for ``codec``,
    absolute: a relative one is taken from the current folder (environment) or from the config file's
    folder, since codecs run in working folders of their own."""
    env = os.environ.get(env_name(codec, key))
    if env:
        return Path(env).expanduser().absolute()
    path = config_file()
    table = _load(path).get(codec, {})
    if not isinstance(table, dict):
        raise InputError(f"{path}: [{codec}] must be a table of settings")
    value = table.get(key)
    if value is None:
        return None
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else (path.parent / p).absolute()


def where_to_configure(codec: str, key: str) -> str:
    """The hint every 'not found' message ends with."""
    return f"set {env_name(codec, key)} or `{key} = ...` under [{codec}] in {config_file()}"
