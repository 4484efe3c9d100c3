"""A description of the machine and software a run used, stored with every run."""
from __future__ import annotations

import os
import platform
import socket
import sys
from importlib import metadata

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
    for pkg in ("torch", "numpy", "piq", "joblib", "opencv-python-headless", "opencv-python"):
        try:  # from the installed package's metadata: importing torch alone takes seconds
            env[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            env[pkg] = None
    # the GPU, where the run's metrics use torch (their modules, already imported, imported it)
    torch = sys.modules.get("torch")
    env["cuda"] = torch.cuda.get_device_name(0) if torch is not None and torch.cuda.is_available() else None
    return env


def process() -> dict:
    """Where a job runs: the machine's name and the process's id (stored in each of its rows)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}
