"""The HTML report: built from a real demo run, loaded in headless Chromium (every image and GIF
loads, every local link resolves, names are shown as text), and its BD-rate tables against the
bjontegaard package."""
import html
import json
import re
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bjontegaard
import numpy as np
import pytest
from PIL import Image

from bench.cli import main
from bench.errors import InputError
from bench.report.html import parse_ranges, pick

XSS = "<script>alert(1)</script>"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def dcvc_json(path: Path, dataset: str, seq_file: str, points: list[tuple[float, float]]) -> Path:
    path.write_text(json.dumps({dataset: {seq_file: {f"{i:03d}": {
        "ave_all_frame_bpp": b, "ave_all_frame_psnr": q, "ave_all_frame_psnr_y": q - 1.0, "qp": 22 + 5 * i}
        for i, (b, q) in enumerate(points)}}}))
    return path


# --- units ----------------------------------------------------------------------------------------
def test_pick_prefers_in_range_then_nearest_in_log_bpp():
    rows = [{"bpp": 0.0009}, {"bpp": 0.0021}, {"bpp": 0.0029}, {"bpp": 0.02}]
    row, inside = pick(rows, 0.001, 0.003)
    assert inside and row["bpp"] == 0.0021  # nearer the geometric centre 0.00173 in log terms
    row, inside = pick(rows, 0.004, 0.008)
    assert not inside and row["bpp"] == 0.0029  # log distance to 0.004: 0.32; 0.02 to 0.008: 0.92
    assert pick([], 0.001, 0.003) == (None, False)


def test_ranges_parse_and_reject_nonsense():
    assert parse_ranges("0.001-0.003,0.003-0.008") == ((0.001, 0.003), (0.003, 0.008))
    for bad in ("0.003-0.001", "a-b", "0.001"):
        with pytest.raises(InputError, match="--ranges"):
            parse_ranges(bad)


def test_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", "--store", str(tmp_path / "none.sqlite")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none.sqlite" in err[0]
    store = tmp_path / "r.sqlite"
    dcvc_json(tmp_path / "a.json", "demo", "carphone_pristine.mp4", [(0.01, 30), (0.02, 32)])
    assert main(["import", str(tmp_path / "a.json"), "--format", "dcvc-json", "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["report", "--store", str(store), "--anchor", "nope", "-o", str(tmp_path / "h")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--anchor 'nope'" in err[0]


# --- BD-rate of imported curves -------------------------------------------------------------------
def test_bd_tables_of_imported_curves_match_the_package_and_name_the_anchor(tmp_path, capsys):
    store, out = tmp_path / "r.sqlite", tmp_path / "html"
    anchor = [(0.0012, 28.1), (0.0021, 29.6), (0.0040, 31.2), (0.0075, 32.9)]
    test = [(0.0010, 28.4), (0.0018, 29.9), (0.0035, 31.5), (0.0068, 33.0)]
    for name, pts in (("VTM-17.0", anchor), ("GoL-paper", test)):
        f = dcvc_json(tmp_path / f"{name}.json", "UVG", "Beauty_1920x1080_120fps_420_8bit_YUV.yuv", pts)
        assert main(["import", str(f), "--format", "dcvc-json", "--codec", name, "--store", str(store)]) == 0
    assert main(["report", "--store", str(store), "-o", str(out)]) == 0
    assert f"report: {(out / 'index.html').resolve()}" in capsys.readouterr().out
    a, t = np.array(anchor), np.array(test)
    want = bjontegaard.bd_rate(a[:, 0], a[:, 1], t[:, 0], t[:, 1], method="pchip", require_matching_points=False)
    index = (out / "index.html").read_text()
    assert 'anchor <span class="anchor">VTM-17.0</span> (VTM is in the results' in index
    # the suite cell (mean over the one sequence) and the sequence page's cell carry the package's number
    assert f"{want:+.1f}%" in index
    page = next(out.glob("uvg-*--beauty-*.html")).read_text()
    assert f"{want:+.1f}%" in page and "overlap 92%; 0.0012–0.0068 bpp" in page
    assert "published numbers: no reconstruction" in page


def test_bd_tables_use_the_published_vtm_anchor(tmp_path):
    from conftest import SHARED

    vtm = SHARED / "reference" / "vtm_17.0_yuv420_LB_allf_ip0.json"
    if not vtm.exists():
        pytest.skip("../shared/reference is for development and CI only")
    from bench.report.bd_tables import sequence_table
    from bench.results.tables import load_frame

    store = tmp_path / "r.sqlite"
    raw = json.loads(vtm.read_text())
    beauty = raw["UVG"]["Beauty_1920x1080_120fps_420_8bit_YUV.yuv"]
    second = {"UVG": {"Beauty_1920x1080_120fps_420_8bit_YUV.yuv": {
        k: {**v, "ave_all_frame_bpp": v["ave_all_frame_bpp"] * 0.8} for k, v in beauty.items()}}}
    (tmp_path / "b.json").write_text(json.dumps(second))
    main(["import", str(vtm), "--format", "dcvc-json", "--codec", "VTM-17.0", "--store", str(store)])
    main(["import", str(tmp_path / "b.json"), "--format", "dcvc-json", "--codec", "other", "--store", str(store)])
    df = load_frame(store)
    table = sequence_table(df[(df["suite"] == "uvg") & (df["sequence"] == "Beauty")], "VTM-17.0", ["psnr_yuv"])
    pts = sorted((p["ave_all_frame_bpp"], p["ave_all_frame_psnr"]) for p in beauty.values())
    a = np.array(pts)
    want = bjontegaard.bd_rate(a[:, 0], a[:, 1], a[:, 0] * 0.8, a[:, 1], method="pchip", require_matching_points=False)
    assert table[("other", "psnr_yuv")].value == pytest.approx(want, abs=1e-9)
    assert want == pytest.approx(-20.0, abs=1e-6)


# --- the whole report of a real run, in a real browser ----------------------------------------------
CHECK_PAGE = """<!doctype html><html><body><script>
const pages = %s;
function settle(img) {
  img.loading = "eager";
  if (img.complete) return Promise.resolve();
  return new Promise(r => { img.onload = img.onerror = r; });
}
async function check(url) {
  const f = document.createElement("iframe");
  f.style.width = "1600px"; f.style.height = "1200px";
  await new Promise(r => { f.onload = r; f.src = url; document.body.appendChild(f); });
  const d = f.contentDocument;
  const imgs = [...d.images];
  await Promise.all(imgs.map(settle));
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
  const links = [...d.querySelectorAll("a[href]")].map(a => a.href).filter(h => h.startsWith(location.origin));
  const missing = [];
  for (const h of links) { const r = await fetch(h, {method: "HEAD"}); if (!r.ok) missing.push(h); }
  return {url, images: imgs.length, gifs: imgs.filter(i => i.src.endsWith(".gif")).length, broken,
          links: links.length, missing, scripts: d.scripts.length, text: d.body.innerText};
}
(async () => {
  const out = [];
  for (const p of pages) out.push(await check(p));
  const pre = document.createElement("pre"); pre.id = "result"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script></body></html>"""


def chromium_dump(url: str, budget_ms: int = 120000) -> str:
    res = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                          f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=300)
    return res.stdout


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt install chromium; .ci/run installs it)")
def test_report_of_a_real_demo_run_loads_in_chromium(tmp_path, capsys):
    store, out = tmp_path / "r.sqlite", tmp_path / "site" / "html"
    assert main(["run", "--suite", "demo", "--sequences", "carphone,bikes", "--codecs", "x264,x265",
                 "--bpp", "0.004,0.02", "--frames", "8", "--jobs", "1", "--no-progress", "--store", str(store)]) == 0
    # a published curve whose name is markup: it must be shown as text everywhere
    f = dcvc_json(tmp_path / "xss.json", "demo", "carphone_pristine.mp4", [(0.005, 25.0), (0.01, 27.0), (0.03, 30.0)])
    assert main(["import", str(f), "--format", "dcvc-json", "--codec", XSS, "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["report", "--store", str(store), "-o", str(out), "--ranges", "0.001-0.01,0.01-0.05",
                 "--gif-width", "160"]) == 0
    assert "report:" in capsys.readouterr().out
    pages = sorted(p.name for p in out.glob("*.html"))
    assert "index.html" in pages and len(pages) == 3  # index + carphone + bikes

    # every reference is relative, so the folder opens from disk as well as from a server
    for p in out.glob("*.html"):
        text = p.read_text()
        assert XSS not in text and not re.search(r'(src|href)="(/|file:)', text)
    disk = chromium_dump((out / "index.html").as_uri(), 20000)
    assert "bench report" in disk

    handler = partial(SimpleHTTPRequestHandler, directory=str(out.parent))
    handler.log_message = lambda *a, **k: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        (out.parent / "check.html").write_text(CHECK_PAGE % json.dumps([f"{base}/html/{p}" for p in pages]))
        dom = chromium_dump(f"{base}/check.html")
    finally:
        server.shutdown()
    m = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert m, f"the check page did not finish: {dom[-500:]}"
    results = json.loads(html.unescape(m.group(1)))
    assert len(results) == 3
    for r in results:
        assert r["images"] > 0 and r["broken"] == [], r["url"]
        assert r["missing"] == [], r["url"]
        assert r["scripts"] == 0, r["url"]  # the pages have no scripts, so none was injected
    index = next(r for r in results if r["url"].endswith("index.html"))
    carphone = next(r for r in results if "carphone" in r["url"])
    assert XSS in index["text"] and XSS in carphone["text"]  # shown as text
    assert index["gifs"] >= 2 * 3  # ground truth and each codec, in each range
    assert carphone["gifs"] >= 1 + 2 * 3  # table, side-by-side and zoom views
    # the GIFs are real animations at the chosen width, one frame per decoded frame
    gif = next((out / "media" / "gif").glob("*-sbs.gif"))
    im = Image.open(gif)
    assert im.size[0] == 2 * 160 and im.n_frames == 8
    # rebuilding reuses every GIF: nothing is decoded again
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in (out / "media" / "gif").glob("*.gif")}
    assert main(["report", "--store", str(store), "-o", str(out), "--ranges", "0.001-0.01,0.01-0.05",
                 "--gif-width", "160"]) == 0
    assert {p: p.stat().st_mtime_ns for p in (out / "media" / "gif").glob("*.gif")} == before
