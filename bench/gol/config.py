"""A GoL training configuration (``codecs/gol/*.toml``): read, checked, and where its folders are.

Tables: ``[run]`` (name, output folder, seed, history), ``[data]`` (the clips, the pack, the frame
size, the held-out clip, temporal strides), ``[model]`` (the network sizes) and one
``[stage_<name>]`` per training stage (steps, batch, crop, learning rate, loss weights).

A config may start from another: ``extends = "gol-small.toml"`` (a top-level key, the path relative
to the file) takes every table of that file and replaces, key by key, what this one sets, so a
variant holds only what it changes. The base's relative paths (``[run] out``, ``[data] clips`` and
``pack``, a ``[stage_tokenizer] linear_init`` file) are rewritten to count from the variant's folder.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from ..errors import InputError

STAGES = ("tokenizer", "codec", "generator", "decoder")
DEFAULT_PIXELS = 640 * 360  # a training frame's size, about
REQUIRED = STAGES[:3]  # [stage_decoder] is optional (no table: no steps)


# (table, key) whose value is a path relative to the config file (linear_init: unless "pca")
PATH_KEYS = (("run", "out"), ("data", "clips"), ("data", "pack"), ("stage_tokenizer", "linear_init"))


def read_toml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """One config file with what it ``extends`` merged under it (tables merged key by key)."""
    path = Path(path)
    try:
        cfg = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a readable TOML training config ({exc})") from None
    base_name = cfg.pop("extends", None)
    if base_name is None:
        return cfg
    if not isinstance(base_name, str):
        raise InputError(f"{path}: extends must be a file name, not {base_name!r}")
    base_path = (path.parent / base_name).resolve()
    if base_path in chain or base_path == path.resolve():
        raise InputError(f"{path}: extends {base_name} goes round in a circle")
    base = read_toml(base_path, (*chain, path.resolve()))
    for table, key in PATH_KEYS:  # the base's relative paths, made to count from this file's folder
        value = base.get(table, {}).get(key)
        if isinstance(value, str) and value != "pca" and not Path(value).is_absolute():
            base[table][key] = os.path.relpath(base_path.parent / value, path.parent.resolve())
    for name, value in cfg.items():
        if isinstance(value, dict) and isinstance(base.get(name), dict):
            base[name] = {**base[name], **value}
        else:
            base[name] = value
    return base


def load_config(path: Path) -> dict:
    cfg = read_toml(Path(path))
    for key in ("run", "data", "model", *(f"stage_{s}" for s in REQUIRED)):
        if key not in cfg:
            raise InputError(f"{path}: no [{key}] table")
    cfg["_path"] = str(path)
    return cfg


def training_pixels(cfg: dict) -> int:
    """About how many pixels a training frame has (``[data] pixels``)."""
    return int(cfg["data"].get("pixels", DEFAULT_PIXELS))


def pack_folder(cfg: dict) -> Path:
    """The config's pack folder (``[data] pack``, relative to the config file)."""
    return (Path(cfg["_path"]).parent / cfg["data"].get("pack", "pack")).resolve()


def clips_folder(cfg: dict) -> Path:
    """The config's folder of training footage (``[data] clips``, relative to the config file)."""
    return (Path(cfg["_path"]).parent / cfg["data"]["clips"]).resolve()
