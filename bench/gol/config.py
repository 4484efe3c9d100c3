"""A GoL training configuration (``codecs/gol/*.toml``): read, checked, and where its folders are.

Tables: ``[run]`` (name, output folder, seed, history), ``[data]`` (the clips, the pack, the frame
size, the held-out clip, temporal strides), ``[model]`` (the network sizes) and one
``[stage_<name>]`` per training stage (steps, batch, crop, learning rate, loss weights).
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import InputError

STAGES = ("tokenizer", "codec", "generator", "decoder")
DEFAULT_PIXELS = 640 * 360  # a training frame's size, about
REQUIRED = STAGES[:3]  # [stage_decoder] is optional (no table: no steps)


def load_config(path: Path) -> dict:
    try:
        cfg = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a readable TOML training config ({exc})") from None
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
