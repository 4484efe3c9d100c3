"""`bench fetch` against a real HTTP server on 127.0.0.1 (standard library, Range support), serving
archives made here: a download cut halfway resumes, a 404 or a refused connection is one line naming
the URL, a changed archive fails its recorded SHA-256 and leaves the good files in place, unsafe
members are refused, extracted sizes are verified. Offline: nothing leaves this machine."""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import random_frame

from bench.errors import InputError, OfflineError
from bench.suites import get_suite
from bench.suites.fetch import fetch_suite
from bench.video import write_video

ROOT = Path(__file__).resolve().parents[1]
PROXIES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


class Files(ThreadingHTTPServer):
    """Serves ``files`` (name -> bytes) with Range support; ``cut`` names a file whose next whole-file
    answer stops halfway (Content-Length of the whole, then the connection closes)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.lstrip("/")
        rng = self.headers.get("Range")
        self.server.requests.append((name, rng))
        data = self.server.files.get(name)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        if rng and (m := re.fullmatch(r"bytes=(\d+)-", rng)):
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if not rng and name in self.server.cut:
            self.server.cut.discard(name)
            body = body[:len(body) // 2]
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = Files()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for var in PROXIES:
        monkeypatch.delenv(var, raising=False)


def _raw(tmp_path: Path, name: str, seed: int, frames: int = 3) -> bytes:
    p = tmp_path / "src" / name
    p.parent.mkdir(exist_ok=True)
    write_video(p, [random_frame(64, 48, seed=seed + i) for i in range(frames)])
    return p.read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _manifest(tmp_path: Path, url: str, sequences: dict[str, bytes], archive: str = "zip") -> Path:
    """A suite manifest whose sequences all come from the archive at ``url``."""
    m = {"name": "tiny", "folder": "tiny", "sequences": [
        {"name": n.split("_")[0], "file": n, "width": 64, "height": 48, "fps": 30, "frames": len(d) // (64 * 48 * 3 // 2),
         "bytes": len(d), "download": {"url": url, "archive": archive, "member": n}} for n, d in sequences.items()]}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(m))
    return path


def _cli(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PROXIES}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _one_line(res, *words) -> str:
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("bench: error:"), res.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def _quiet(msg):
    pass


def test_cut_download_resumes_and_finishes(server, tmp_path, workspace):
    seqs = {"a_64x48.yuv": _raw(tmp_path, "a_64x48.yuv", 0, frames=40)}
    archive = _zip(seqs)
    server.files["suite.zip"] = archive
    server.cut.add("suite.zip")
    suite = get_suite(str(_manifest(tmp_path, server.url("suite.zip"), seqs)))
    with pytest.raises(OfflineError, match=r"suite\.zip: download interrupted after \d+ of \d+ bytes"):
        fetch_suite(suite, progress=False, log=_quiet)
    part = workspace / "datasets" / "downloads" / "suite.zip.part"
    assert 0 < part.stat().st_size < len(archive)
    (path,) = fetch_suite(suite, progress=False, log=_quiet)
    assert server.requests[-1] == ("suite.zip", f"bytes={len(archive) // 2}-")  # resumed where it stopped
    assert path.read_bytes() == seqs["a_64x48.yuv"]
    assert (workspace / "datasets" / "downloads" / "suite.zip").read_bytes() == archive and not part.exists()
    sums = (workspace / "datasets" / "tiny" / "SHA256SUMS").read_text()
    import hashlib

    assert sums.split()[0] == hashlib.sha256(archive).hexdigest()


def test_404_and_refused_connection_are_one_line_naming_the_url(server, tmp_path):
    seqs = {"a_64x48.yuv": _raw(tmp_path, "a_64x48.yuv", 0)}
    missing = server.url("missing.zip")
    _one_line(_cli("fetch", "--suite", str(_manifest(tmp_path, missing, seqs)), "--no-progress"), missing, "404")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/suite.zip"
    _one_line(_cli("fetch", "--suite", str(_manifest(tmp_path, closed, seqs)), "--no-progress"), closed,
              "cannot reach", "refused")


def test_changed_archive_fails_its_recorded_sha256_and_keeps_the_good_files(server, tmp_path, workspace):
    seqs = {"a_64x48.yuv": _raw(tmp_path, "a_64x48.yuv", 0), "b_64x48.yuv": _raw(tmp_path, "b_64x48.yuv", 10)}
    server.files["suite.zip"] = _zip(seqs)
    manifest = _manifest(tmp_path, server.url("suite.zip"), seqs)
    a, b = fetch_suite(get_suite(str(manifest)), progress=False, log=_quiet)
    assert a.read_bytes() == seqs["a_64x48.yuv"] and b.read_bytes() == seqs["b_64x48.yuv"]
    # later: one sequence and the download are gone, and the archive upstream has changed
    b.unlink()
    (workspace / "datasets" / "downloads" / "suite.zip").unlink()
    server.files["suite.zip"] = _zip({**seqs, "b_64x48.yuv": _raw(tmp_path, "b2_64x48.yuv", 20)})
    line = _one_line(_cli("fetch", "--suite", str(manifest), "--no-progress"), "suite.zip", "SHA-256",
                     "SHA256SUMS")
    assert "nothing extracted" in line
    assert a.read_bytes() == seqs["a_64x48.yuv"] and not b.exists()  # the good file is still there


@pytest.mark.parametrize("evil", ["../../escape_64x48.yuv", "/tmp/escape_64x48.yuv", "dir/../../escape_64x48.yuv"])
def test_unsafe_member_paths_are_refused(server, tmp_path, workspace, evil):
    seqs = {"a_64x48.yuv": _raw(tmp_path, "a_64x48.yuv", 0)}
    server.files["suite.zip"] = _zip({evil: b"x" * 10, **seqs})
    suite = get_suite(str(_manifest(tmp_path, server.url("suite.zip"), seqs)))
    with pytest.raises(InputError, match="refusing unsafe member path"):
        fetch_suite(suite, progress=False, log=_quiet)
    assert not list(tmp_path.rglob("escape_64x48.yuv")) and not Path("/tmp/escape_64x48.yuv").exists()
    assert not suite.sequences[0].path.exists()


def test_extracted_sizes_are_verified(server, tmp_path):
    good = _raw(tmp_path, "a_64x48.yuv", 0)
    server.files["suite.zip"] = _zip({"a_64x48.yuv": good[:-100]})  # truncated inside the archive
    manifest = _manifest(tmp_path, server.url("suite.zip"), {"a_64x48.yuv": good})
    _one_line(_cli("fetch", "--suite", str(manifest), "--no-progress"), "a_64x48.yuv", f"expected {len(good)}")
    assert not get_suite(str(manifest)).sequences[0].path.exists()  # a bad file is not left behind
