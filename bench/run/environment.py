"""A description of the machine and software a run used, stored with every run."""
from __future__ import annotations

import os
import platform
import socket
import sys

from .. import __version__


def describe() -> dict:
    env = {"bench": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
           "machine": platform.machine(), "cpus": os.cpu_count()}
    try:
        from ..tools import ffmpeg_exe, ffmpeg_version

        env["ffmpeg"] = ffmpeg_version()
        env["ffmpeg_path"] = ffmpeg_exe()
    except Exception as exc:  # noqa: BLE001 - recorded, not fatal
        env["ffmpeg"] = f"unavailable: {exc}"
    try:
        import torch

        env["torch"] = torch.__version__
        env["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001
        env["torch"] = None
    for mod in ("numpy", "piq", "joblib"):
        try:
            env[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            env[mod] = None
    return env


def process() -> dict:
    """Where a job runs: the machine's name and the process's id (stored in each of its rows)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}
