"""RD curves: suite averages at matched targets, and PNG/SVG files from real stored results."""
import math

import pandas as pd
import pytest

from bench.report.rd_curves import draw, suite_average
from bench.results.row import curve_label


def rows(codec, seq, pts, src="file", status="ok"):
    return [{"codec": codec, "bits_source": src, "sequence": seq, "target_bpp": t, "status": status, "bpp": b,
             "knob": k, "psnr_y": q} for k, (t, b, q) in enumerate(pts)]


def test_suite_average_is_over_the_sequences_every_codec_reached():
    df = pd.DataFrame(rows("x265", "a", [(0.002, 0.0021, 30), (0.004, 0.0040, 32)])
                      + rows("x265", "b", [(0.004, 0.0042, 34)]) + rows("x265", "b", [(0.002, 0.0030, 31)],
                                                                          status="unreachable")
                      + rows("vvenc", "a", [(0.002, 0.002, 31), (0.004, 0.004, 33)])
                      + rows("vvenc", "b", [(0.002, 0.002, 35), (0.004, 0.004, 37)]))
    avg = suite_average(df, "psnr_y")
    got = {(c, round(b, 5)): (v, n) for c, b, v, n in avg[["codec", "bpp", "value", "sequences"]].itertuples(index=False)}
    # 0.002: x265 reached it on a only, so both codecs are averaged over a only (one sequence)
    assert got == {("x265", 0.0021): (30, 1), ("vvenc", 0.002): (31, 1),
                   ("x265", 0.0041): (33, 2), ("vvenc", 0.004): (35, 2)}


def test_published_curves_average_per_rate_point():
    df = pd.DataFrame([{"codec": "VTM", "bits_source": "published", "sequence": s, "target_bpp": math.nan,
                        "status": "ok", "bpp": b, "knob": qp, "psnr_y": q}
                       for s, pts in (("a", [(37, 0.01, 30), (40, 0.005, 28)]), ("b", [(37, 0.03, 34)]))
                       for qp, b, q in pts])
    avg = suite_average(df, "psnr_y")
    assert list(avg["bpp"]) == [pytest.approx(0.02)] and list(avg["value"]) == [pytest.approx(32)]
    assert curve_label("VTM", "published") == "VTM [published bits]" and curve_label("x265", "file") == "x265"


def test_draw_writes_png_and_svg(tmp_path):
    df = pd.DataFrame(rows("x265", "a", [(0.002, 0.0021, 30), (0.004, 0.0040, 32)])
                      + rows("<script>", "a", [(0.002, 0.0019, 29), (0.004, 0.0043, 33)]))
    curves = df.rename(columns={"psnr_y": "value"})[["codec", "bits_source", "bpp", "value"]]
    paths = draw(curves, "psnr_y", "demo / a", tmp_path / "rd" / "a_psnr_y")
    assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 5000
    svg = paths[1].read_text()
    assert "higher is better" in svg or "higher" in svg
