"""Resolution ladders: real codecs coding real clips at a lower resolution, the hull picking the
better scale per the chosen metric, stored probes reused, honest suite averages, no pandas repr."""
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.codecs import create_codec
from bench.codecs.scaled import coded_size
from bench.errors import InputError
from bench.report.hull import with_ladders
from bench.report.text import text_report
from bench.results.row import ResultRow
from bench.results.store import Store
from bench.results.tables import load_frame
from bench.run.ladder import parse_scales


def test_full_scale_keeps_its_configuration_and_sizes_round_to_the_encoder():
    # a full-scale result keeps the key it had before ladders existed: no ladder option in its configuration
    plain = create_codec("x265").config()
    assert plain == create_codec("x265", scale=1, scales="auto").config()
    assert not {"scale", "scales", "scale_filter"} & set(plain["options"])
    half = create_codec("x265", scale=0.5).config()
    assert half["options"]["scale"] == 0.5 and half["options"]["scale_filter"] == "lanczos"
    assert coded_size(640, 272, 0.35, 2) == (224, 96)
    assert coded_size(640, 272, 0.35, 8) == (224, 96) and coded_size(176, 144, 0.18, 8) == (32, 32)
    assert coded_size(1280, 720, 1.0) == (1280, 720)
    assert parse_scales("x265", "0.5,1,0.25") == [(1.0, 1), (0.5, 1), (0.25, 1)] and parse_scales("x265", "auto") == "auto"
    with pytest.raises(InputError, match="x265.scales"):
        parse_scales("x265", "0.5,2")
    with pytest.raises(InputError, match="scale=1.5"):
        create_codec("x265", scale=1.5).config()


def _run(store, *args):
    return main(["run", "--suite", "demo", "--jobs", "1", "--no-progress", "--metrics", "psnr",
                 "--store", str(store), *args])


def _probe_count(store) -> int:
    with sqlite3.connect(store) as c:
        return c.execute("SELECT COUNT(*) FROM probes").fetchone()[0]


@pytest.mark.slow
def test_hull_picks_the_better_scale_per_metric_and_reruns_reuse_probes(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    args = ["--sequences", "bikes", "--codecs", "x265", "--codec-opt", "x265.scales=1,0.35", "--bpp", "0.012,0.03",
            "--frames", "4"]
    assert _run(store, *args) == 0
    df = load_frame(store)
    assert sorted(df["knob"].notna().groupby(df["config"].map(lambda c: c["codec"]["options"].get("scale", 1)))
                  .size().items()) == [(0.35, 2), (1, 2)]
    small = df[df["config"].map(lambda c: c["codec"]["options"].get("scale") == 0.35)].iloc[0]
    assert small["config"]["bitstream_meta"]["coded_size"] == [224, 96]  # what was coded
    assert small["width"] == 640 and small["bits"] == Path(small["bitstream"]).stat().st_size * 8
    for metric in ("psnr_yuv", "psnr_u"):  # the hull takes the best of the two scales by the metric asked
        hull = with_ladders(load_frame(store), metric)
        lad = hull[hull["codec"] == "x265 [ladder]"]
        assert len(lad) == 2 and set(hull["codec"]) == {"x265", "x265 [ladder]"}
        for t, row in lad.set_index("target_bpp").iterrows():
            cands = df[(df["target_bpp"] == t) & (df["status"] == "ok")]
            assert row[metric] == cands[metric].max()
    assert (hull.loc[hull["codec"] == "x265", "scale"] == 1).all()  # the single-resolution curve stays
    # re-running finds everything stored; with the results gone, the solver uses the stored probes only
    probes = _probe_count(store)
    capsys.readouterr()
    assert _run(store, *args) == 0 and "4 already stored" in capsys.readouterr().out
    with sqlite3.connect(store) as c:
        c.execute("DELETE FROM results")
    assert _run(store, *args) == 0
    assert _probe_count(store) == probes
    assert (load_frame(store)["encodes"] == 0).all()


@pytest.mark.slow
def test_auto_adds_scales_below_the_floor_and_measures_the_floor_once(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    args = ["--sequences", "bigbuckbunny", "--codecs", "x265", "--codec-opt", "x265.scales=auto", "--bpp", "0.004",
            "--frames", "3", "--fps-step", "1"]
    assert _run(store, *args) == 0
    err = capsys.readouterr().err
    assert "ladder x265 on bigbuckbunny: x1 (floor" in err
    df = with_ladders(load_frame(store))
    assert df.loc[df["codec"] == "x265", "status"].tolist() == ["unreachable"]  # below the QP-51 floor
    lad = df[df["codec"] == "x265 [ladder]"]
    assert lad["status"].tolist() == ["ok"] and lad["scale"].iloc[0] < 1
    probes = _probe_count(store)
    with sqlite3.connect(store) as c:
        c.execute("DELETE FROM results")
    assert _run(store, *args) == 0 and _probe_count(store) == probes  # floors and probes from the store


def _row(codec, seq, target, status, psnr, scale=1.0):
    opts = {"scale": scale} if scale != 1 else {}
    return ResultRow(key=f"{codec}-{seq}-{target}-{scale}", run_id="r", status=status, codec=codec, suite="demo",
                     sequence=seq, width=64, height=64, frames=3, target_bpp=target, knob=1,
                     bpp=target if status == "ok" else target * 3, miss=0.0 if status == "ok" else 2.0,
                     bits_source="file", metrics={"psnr_yuv": psnr, "psnr_y": psnr},
                     config={"codec": {"codec": codec, "options": opts}})


def test_suite_average_is_over_the_sequences_every_codec_met(tmp_path):
    store = tmp_path / "r.sqlite"
    with Store(store) as st:
        for r in [_row("a", "s1", 0.01, "ok", 30), _row("a", "s2", 0.01, "ok", 40),
                  _row("b", "s1", 0.01, "ok", 31), _row("b", "s2", 0.01, "unreachable", 20),
                  _row("c", "s1", 0.01, "unreachable", 25), _row("c", "s2", 0.01, "unreachable", 25),
                  _row("c", "s1", 0.01, "ok", 26, scale=0.5), _row("c", "s2", 0.01, "ok", 24, scale=0.5)]:
            st.put_result(r)
    text = text_report(store)
    assert "DataFrame" not in text and "Index" not in text
    avg = text[text.index("suite average"):].splitlines()
    line = {ln.split()[4]: ln.split() for ln in avg if ln.strip().startswith("0.01")}
    # a and c [ladder] are not averaged over s2 because b did not meet the target there
    assert line["a"][1:4] == ["1", "of", "2"] and line["a"][-2:] == ["30", "30"]
    assert line["c"][5] == "[ladder]" and line["c"][-2:] == ["26", "26"] and line["b"][-1] == "31"
    assert "target not reached on any sequence by c" in text  # full-scale c met it nowhere
    hull = with_ladders(load_frame(store))
    assert sorted(hull.loc[hull["codec"] == "c [ladder]", "psnr_yuv"]) == [24, 26]


def test_nothing_reached_says_so_without_pandas(tmp_path):
    store = tmp_path / "r.sqlite"
    with Store(store) as st:
        st.put_result(_row("a", "s1", 0.001, "unreachable", 30))
    text = text_report(store)
    assert "Empty DataFrame" not in text and "0.001 bpp: target not reached on any sequence by a" in text


def test_hull_metric_must_be_stored(tmp_path):
    df = pd.DataFrame([_row("c", "s1", 0.01, "ok", 26, scale=0.5).flat()])
    with pytest.raises(InputError, match="--ladder-metric 'lpips'"):
        with_ladders(df, "lpips")


def test_temporal_rungs_are_options_with_their_own_keys():
    assert parse_scales("x265", "0.25/3,0.5") == [(1.0, 1), (0.5, 1), (0.25, 3)]
    with pytest.raises(InputError, match="x265.scales"):
        parse_scales("x265", "0.25/9")
    every = create_codec("x265", frame_step=1).config()
    assert every == create_codec("x265").config()  # full frame rate keeps the key it had
    third = create_codec("x265", frame_step=3).config()["options"]
    assert third["frame_step"] == 3 and "scale" not in third  # full size: no resize options
    with pytest.raises(InputError, match="frame_step=0"):
        create_codec("x265", frame_step=0).config()


def test_frames_picked_and_held_round_trip(tmp_path):
    from bench.codecs.scaled import coded_frames, hold_frames, pick_frames

    src, picked, held = tmp_path / "s.yuv", tmp_path / "p.yuv", tmp_path / "h.yuv"
    src.write_bytes(bytes(range(21)))  # 7 "frames" of 3 bytes
    frames = [src.read_bytes()[3 * i:3 * i + 3] for i in range(7)]
    pick_frames(src, picked, 3, 3, 7)
    assert picked.read_bytes() == frames[0] + frames[3] + frames[6] and coded_frames(7, 3) == 3
    hold_frames(picked, held, 3, 3, 7)
    assert held.read_bytes() == frames[0] * 3 + frames[3] * 3 + frames[6]
    with pytest.raises(InputError, match="the decoder wrote 2 frames, 3 were coded"):
        hold_frames(tmp_path / "s.yuv", held, 9, 3, 7)


@pytest.mark.slow
def test_bikes_reaches_a_thousandth_of_a_bit_per_pixel_by_coding_fewer_frames(tmp_path, capsys):
    """x265 on bikes (640x272, 15 frames): no size reaches 0.001 bpp with every frame coded (each frame's
    headers cost more than its budget); auto goes on with every 2nd and 3rd frame and meets it."""
    store = tmp_path / "r.sqlite"
    args = ["--sequences", "bikes", "--codecs", "x265", "--codec-opt", "x265.scales=auto", "--bpp", "0.001"]
    assert _run(store, *args) == 0
    assert "x0.0625/2 (floor" in capsys.readouterr().err
    df = load_frame(store)
    hull = with_ladders(df)
    row = hull[hull["codec"] == "x265 [ladder]"].iloc[0]
    assert row["status"] == "ok" and row["frame_step"] > 1 and "frames" in row["rung"]
    assert abs(row["bpp"] / 0.001 - 1) < 0.1 and row["frames"] == 15  # measured on all 15 source frames
    meta = row["config"]["bitstream_meta"]
    assert meta["coded_frames"] == -(-15 // row["frame_step"]) and meta["frames_between"] == "held (repeated)"
    assert row["bits"] == Path(row["bitstream"]).stat().st_size * 8
    probes = _probe_count(store)
    with sqlite3.connect(store) as c:
        c.execute("DELETE FROM results")
    assert _run(store, *args) == 0 and _probe_count(store) == probes  # every floor and probe reused


def test_ok_rows_far_from_their_target_are_off_target_in_reports(tmp_path):
    from bench.report.targets import OFF_TARGET, mark_off_target

    far = _row("a", "s1", 0.004, "ok", 30)
    far.bpp, far.miss = 0.0066, 0.66  # x264 between QP 68 (0.0066) and 69 (0.0013) on bikes
    rows = [far, _row("a", "s2", 0.004, "ok", 31), _row("b", "s1", 0.004, "ok", 29), _row("b", "s2", 0.004, "ok", 28)]
    store = tmp_path / "r.sqlite"
    with Store(store) as st:
        for r in rows:
            st.put_result(r)
    df = mark_off_target(load_frame(store))
    assert df.set_index(["codec", "sequence"]).loc[("a", "s1"), "status"] == OFF_TARGET
    assert (df["status"] == "ok").sum() == 3
    assert mark_off_target(load_frame(store), 0.7)["status"].eq("ok").all()  # a looser tolerance keeps it
    text = text_report(store)
    assert "off-target" in text
    avg = text[text.index("suite average"):]
    assert "1 of 2" in avg  # a did not meet 0.004 on s1: the average is over s2 only
    assert Store(store, readonly=True).results()[0].status == "ok"  # the store is unchanged


@pytest.mark.slow
def test_a_target_the_knob_steps_over_runs_at_another_rung(tmp_path, capsys):
    """x264 on bikes jumps from 0.0013 bpp (QP 69) to 0.0066 (QP 68): 0.004 bpp cannot be met within
    25 % at full scale, so auto runs it at another rung too, and the report marks the full-scale row."""
    store = tmp_path / "r.sqlite"
    assert _run(store, "--sequences", "bikes", "--codecs", "x264", "--codec-opt", "x264.scales=auto",
                "--bpp", "0.004") == 0
    assert "at x1 the knob steps from 0.00128 to 0.00665 bpp" in capsys.readouterr().err
    from bench.report.targets import mark_off_target

    df = with_ladders(mark_off_target(load_frame(store)))
    assert df.loc[df["codec"] == "x264", "status"].tolist() == ["off-target"]
    lad = df[df["codec"] == "x264 [ladder]"].iloc[0]
    assert lad["status"] == "ok" and abs(lad["bpp"] / 0.004 - 1) < 0.25 and lad["rung"]
