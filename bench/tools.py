"""Running external programs: locating ffmpeg, deadlines, stderr tails.

Every external program (ffmpeg, VTM's EncoderApp, ...) is started through :func:`run_tool`:
argument lists only (never ``shell=True``), its own process group so that a timeout kills the
whole tree, and a failure carries the last lines of its stderr.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from functools import lru_cache
from pathlib import Path

from .errors import CodecFailed, CodecTimeout, CodecUnavailable

STDERR_TAIL_CHARS = 2000


@lru_cache(maxsize=None)
def ffmpeg_exe() -> str:
    """The ffmpeg binary: ``$BENCH_FFMPEG``, else the one inside the imageio-ffmpeg wheel
    (it has libvvenc, libx265, libaom, libsvtav1 and libvmaf), else ``ffmpeg`` on PATH."""
    env = os.environ.get("BENCH_FFMPEG")
    if env:
        if not Path(env).is_file():
            raise CodecUnavailable(f"BENCH_FFMPEG={env}: no such file")
        return env
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - fall back to PATH below
        pass
    found = shutil.which("ffmpeg")
    if not found:
        raise CodecUnavailable("no ffmpeg found: pip install imageio-ffmpeg, or set BENCH_FFMPEG to an ffmpeg binary")
    return found


@lru_cache(maxsize=None)
def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True, check=False)
    first = (out.stdout or "").splitlines()[:1]
    return first[0].replace("ffmpeg version ", "").split(" Copyright")[0].strip() if first else "unknown"


@lru_cache(maxsize=None)
def ffmpeg_encoders() -> frozenset[str]:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False)
    names = set()
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


def tail(text: str | bytes, limit: int = STDERR_TAIL_CHARS) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text[-limit:]


def remaining(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (a ``time.monotonic()`` value), or None for no limit."""
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def run_tool(cmd: list[str], *, deadline: float | None = None, cwd: Path | None = None,
             what: str = "", stdout_path: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``cmd``; raise :class:`CodecTimeout` past ``deadline`` and :class:`CodecFailed` on a
    non-zero exit or a crash (signal). ``what`` names the step in messages; ``env`` adds to (or
    replaces entries of) the environment."""
    cmd = [str(c) for c in cmd]
    label = what or Path(cmd[0]).name
    timeout = remaining(deadline)
    if timeout is not None and timeout <= 0:
        raise CodecTimeout(f"{label}: no time left before the job's deadline", "", cmd)
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    try:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd, start_new_session=True,
                                env={**os.environ, **env} if env else None)
    except FileNotFoundError as exc:
        raise CodecUnavailable(f"{label}: cannot start {cmd[0]}: {exc.strerror}") from exc
    finally:
        if stdout_path:
            stdout.close()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        raise CodecTimeout(f"{label}: timed out after {timeout:.0f} s", tail(err or b""), cmd) from None
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        last = tail(err or b"").strip().splitlines()
        hint = f": {last[-1]}" if last else ""
        raise CodecFailed(f"{label} failed ({how}){hint}", tail(err or b""), cmd)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
