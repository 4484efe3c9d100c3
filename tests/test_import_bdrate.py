"""Published results import (DCVC JSON) and BD-rate against the bjontegaard package."""
import json
import math

import bjontegaard
import numpy as np
import pytest
from conftest import SHARED

from bench.cli import main
from bench.report.bdrate import bd_rate, pareto
from bench.results.tables import load_frame

VTM_JSON = SHARED / "reference" / "vtm_17.0_yuv420_LB_allf_ip0.json"


def vtm_json():
    if not VTM_JSON.exists():
        pytest.skip("../shared/reference is for development and CI only")
    return VTM_JSON


def test_import_dcvc_json_stores_every_point_as_published(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    assert main(["import", str(vtm_json()), "--format", "dcvc-json", "--codec", "VTM-17.0", "--store", str(store)]) == 0
    assert "imported 530 rate points" in capsys.readouterr().out
    df = load_frame(store)
    assert len(df) == 530 and set(df["bits_source"]) == {"published"}
    beauty = df[(df["suite"] == "uvg") & (df["sequence"] == "Beauty")].sort_values("knob")
    raw = json.loads(VTM_JSON.read_text())["UVG"]["Beauty_1920x1080_120fps_420_8bit_YUV.yuv"]
    assert list(beauty["bpp"]) == [raw[k]["ave_all_frame_bpp"] for k in sorted(raw)]
    assert list(beauty["psnr_yuv"]) == [raw[k]["ave_all_frame_psnr"] for k in sorted(raw)]
    assert beauty["width"].iloc[0] == 1920 and beauty["frames"].iloc[0] == 600
    assert set(df[df["suite"] == "mcl-jcv"]["sequence"]) >= {"videoSRC01", "videoSRC30"}
    # importing again replaces, never duplicates
    assert main(["import", str(vtm_json()), "--format", "dcvc-json", "--codec", "VTM-17.0", "--store", str(store)]) == 0
    assert len(load_frame(store)) == 530


def test_import_bad_file_is_one_line_and_store_untouched(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    main(["import", str(vtm_json()), "--format", "dcvc-json", "--store", str(store)])
    bad = tmp_path / "bad.json"
    bad.write_text('{"UVG": {"x.yuv": {"022": {"no_bpp": 1}}}}')
    assert main(["import", str(bad), "--format", "dcvc-json", "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "ave_all_frame_bpp" in err[0]
    assert len(load_frame(store)) == 530


def curves():
    raw = json.loads(vtm_json().read_text())["UVG"]
    pts = lambda s: sorted((p["ave_all_frame_bpp"], p["ave_all_frame_psnr"]) for p in raw[s].values())
    return np.array(pts("Beauty_1920x1080_120fps_420_8bit_YUV.yuv")), np.array(pts("Jockey_1920x1080_120fps_420_8bit_YUV.yuv"))


def test_bd_rate_of_two_imported_curves_equals_the_package():
    a, _ = curves()
    # a second codec: the same curve needing 10% fewer bits, and one on a different rate scale
    for scale in (0.9, 1.25):
        got = bd_rate(a[:, 0], a[:, 1], a[:, 0] * scale, a[:, 1])
        want = bjontegaard.bd_rate(a[:, 0], a[:, 1], a[:, 0] * scale, a[:, 1], method="pchip",
                                   require_matching_points=False)
        assert got.value == pytest.approx(want, abs=1e-9) and got.value == pytest.approx((scale - 1) * 100, abs=1e-6)
        assert got.reliable and got.overlap == pytest.approx(1.0)


def test_bd_rate_marks_curves_that_barely_overlap():
    a, _ = curves()
    shifted = a[:, 1] + (a[:, 1].max() - a[:, 1].min()) * 0.8
    r = bd_rate(a[:, 0], a[:, 1], a[:, 0], shifted)
    assert not r.reliable and "overlap" in r.reason and 0 < r.overlap < 0.5
    none = bd_rate(a[:, 0], a[:, 1], a[:, 0], a[:, 1] + 100)
    assert math.isnan(none.value) and none.cell().startswith("n/a")


def test_bd_rate_for_lower_is_better_metrics():
    rate = np.array([0.001, 0.002, 0.004, 0.008])
    lp = np.array([0.5, 0.4, 0.3, 0.2])  # LPIPS falls with rate
    r = bd_rate(rate, lp, rate * 0.8, lp, direction="lower")
    assert r.value == pytest.approx(-20, abs=1e-6)


def test_pareto_drops_dominated_points():
    r, q = pareto([0.004, 0.001, 0.002, 0.003], [30, 25, 27, 26])
    assert list(r) == [0.001, 0.002, 0.004] and list(q) == [25, 27, 30]
