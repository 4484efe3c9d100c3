"""GoL: the file format, masks and ladder, a tiny configuration trained on the CPU in seconds (the
real trainer, resumed across commands), and the codec end to end: real files, decoded exactly from
the file alone, one-line errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.codecs import create_codec
from bench.codecs.base import Bitstream
from bench.codecs.gol import SHIPPED_WEIGHTS
from bench.errors import CodecUnavailable
from bench.gol.bitstream import HEADER_BYTES, Header
from bench.gol.masks import MASKS, i_positions, ladder_entry, ladder_label, pareto_ladder
from bench.gol.model import GoLModel
from bench.report.reconstruct import prepared_source
from bench.results.store import Store
from bench.video import Frame, write_video
from bench.video.color import rgb_to_yuv420

TINY = """
[run]
name = "gol-tiny"
seed = 0
[data]
clips = "clips"
heldout = "heldout.mp4"
heldout_frames = 8
pixels = 100000
strides = [1, 2]
[model]
latent_ch = 4
tok_width = 8
codec_m = 16
codec_n = 8
levels = 2
gen_width = 16
sample_steps = 2
[stage_tokenizer]
steps = {steps}
batch = 2
crop = 128
lr = 1e-3
log_every = 1
[stage_codec]
steps = {steps}
batch = 2
crop = 128
lr = 1e-3
lambdas = [0.01, 0.1]
log_every = 1
[stage_generator]
steps = {steps}
batch = 2
crop = 128
lr = 1e-3
log_every = 1
[stage_decoder]
steps = {steps}
batch = 2
crop = 128
lr = 1e-4
perceptual = 0.5
temporal = 0.5
adversarial = 0.1
generated = 0.5
disc_width = 8
log_every = 1
"""


def _synthetic_clip(path: Path, frames: int, seed: int) -> None:
    """A moving gradient with a moving square (a stand-in for footage in a training-mechanics test)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:144] / 128.0
    c = rng.random(3)
    out = []
    for t in range(frames):
        rgb = np.stack([(xx + t / 30 + c[i]) % 1 for i in range(3)], -1)
        y0 = (4 * t) % 100
        rgb[y0:y0 + 24, 20:44] = 1 - c
        out.append(Frame(*rgb_to_yuv420(rgb), bit_depth=8))
    write_video(path, out, fps=25)


def _train(cfg: Path, *extra) -> dict:
    res = subprocess.run([sys.executable, "-m", "bench.gol.train", "--config", str(cfg), "--threads", "1", *extra],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("gol")
    (root / "clips").mkdir()
    _synthetic_clip(root / "clips" / "train.mp4", 46, 0)  # not a multiple of 8: partial chunks
    _synthetic_clip(root / "clips" / "heldout.mp4", 12, 1)
    cfg = root / "tiny.toml"
    cfg.write_text(TINY.format(steps=2))
    first = _train(cfg, "--minutes", "0")  # no time: nothing trained, state saved
    cfg.write_text(TINY.format(steps=3))
    done = _train(cfg)
    return root, cfg, first, done


def test_header_masks_and_ladder():
    h = Header(b"\x01\x02\x03\x04", 1280, 720, 93, "1001", 2.5)
    data = h.pack()
    assert len(data) == HEADER_BYTES == 16 and Header.unpack(data + b"xx") == h
    assert Header(b"\x01\x02\x03\x04", 1280, 720, 93, "1000", 2.5).seed != h.seed
    with pytest.raises(ValueError, match="clip.gol: not a GoL bitstream"):
        Header.unpack(b"RIFF" + data[4:], "clip.gol")
    with pytest.raises(ValueError, match="shorter than a GoL header"):
        Header.unpack(data[:5], "clip.gol")
    # the quality is held as the file holds it (1/16 steps), so the encoder codes with what the decoder reads
    assert Header(b"\x01\x02\x03\x04", 64, 64, 8, "1111", 0.3).q == Header.unpack(
        Header(b"\x01\x02\x03\x04", 64, 64, 8, "1111", 0.3).pack()).q == 0.3125
    assert [len(i_positions(m, 24)) for m in MASKS] == [24, 12, 8, 6]  # all, 1/2, 1/3, 1/4 as in the paper
    # the ladder drops a pair that a cheaper one matches or beats in both PSNR and LPIPS
    rows = [("1000", 0, 0.002, 14.0, 0.6), ("1000", 1, 0.001, 15.0, 0.7), ("1000", 2, 0.003, 16.0, 0.5),
            ("1111", 0, 0.0035, 15.5, 0.55), ("1111", 1, 0.005, 17.0, 0.55), ("1111", 2, 0.009, 16.5, 0.56)]
    measured = [{"mask": m, "q": q, "bpp": b, "psnr_rgb": p, "lpips": d} for m, q, b, p, d in rows]
    assert pareto_ladder(measured) == [("1000", 1, 0), ("1000", 0, 0), ("1000", 2, 0), ("1111", 1, 0)]
    # a second codec's entries join the same front; checkpoints made before codecs had numbers read as codec 0
    measured.append({"mask": "1111", "q": 2, "codec": 1, "bpp": 0.008, "psnr_rgb": 18.0, "lpips": 0.4})
    assert pareto_ladder(measured)[-1] == ("1111", 2.0, 1) and ladder_entry(["1010", 2.5]) == ("1010", 2.5, 0)
    assert [ladder_label(e) for e in (["1010", 2.5], ("1111", 5.0, 1))] == ["1010/q2.5", "1111/q5/c1"]


def test_header_of_a_second_codec():
    """Codec 0 is written as the format's version 1 (16 bytes, as before); another codec as version 2,
    one byte longer, which names it. Either decodes back to the same header; a version 2 header that
    names codec 0, or is cut short, is refused in one line."""
    one = Header(b"\x01\x02\x03\x04", 1280, 720, 93, "1001", 2.5)
    two = Header(b"\x01\x02\x03\x04", 1280, 720, 93, "1001", 2.5, codec=1)
    a, b = one.pack(), two.pack()
    assert a[3] == 1 and b[3] == 2 and len(a) == one.size == 16 and len(b) == two.size == 17 and a == b[:3] + b"\x01" + b[4:16]
    assert Header.unpack(b + b"stream") == two and Header.unpack(a + b"stream") == one and one.seed != two.seed
    with pytest.raises(ValueError, match="x.gol: corrupt GoL header .*codec 0"):
        Header.unpack(b[:16] + b"\x00", "x.gol")
    with pytest.raises(ValueError, match="x.gol: 16 bytes, shorter than a GoL version 2 header"):
        Header.unpack(b[:16], "x.gol")
    with pytest.raises(ValueError, match="x.gol: GoL format version 3, this decoder reads 1, 2"):
        Header.unpack(b[:3] + b"\x03" + b[4:], "x.gol")


def test_tiny_training_trains_resumes_and_finalises(tiny_run):
    root, cfg, first, done = tiny_run
    assert first["steps"] == {"tokenizer": 0, "codec": 0, "generator": 0, "decoder": 0} and not first["finalised"]
    assert done["steps"] == {"tokenizer": 3, "codec": 3, "generator": 3, "decoder": 3} and done["finalised"]
    run = Path(done["out"])
    rows = [json.loads(x) for x in (run / "losses.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in rows} >= {"tokenizer", "normalise", "codec", "generator", "decoder"}
    assert all("lpips" in r and "d_loss" in r and "temporal" in r for r in rows if r["stage"] == "decoder")
    assert all(np.isfinite(r["loss"]) for r in rows if "loss" in r)
    card = (run / "MODEL_CARD.md").read_text()
    assert "Held-out clip `heldout.mp4`" in card and "tokenizer 3, codec 3, generator 3, decoder 3" in card
    assert (run / "latents.pt").is_file()  # the codec and generator stages sampled cached latents
    model = GoLModel.load(run / "gol-tiny.pt")
    assert len(model.card["ladder"]) == 4 * 3 and model.card["data"]["heldout"] == "heldout.mp4"
    assert len(model.card["quality"]) == 4 * 2
    m = {ladder_entry(e): e for e in model.card["ladder"]}
    assert model.ladder and all(k in m for k in model.ladder)
    assert [m[k]["bpp"] for k in model.ladder] == sorted(m[k]["bpp"] for k in model.ladder)
    assert model.ladder == pareto_ladder(model.card["ladder"])
    # more steps in the config: the next command goes on from the saved state and finalises again
    cfg.write_text(TINY.format(steps=4))
    again = _train(cfg)
    assert again["steps"] == {"tokenizer": 4, "codec": 4, "generator": 4, "decoder": 4} and again["finalised"]
    # where only a finalised checkpoint was kept (the shipped one), a new run starts from its weights and steps
    cfg.write_text(TINY.format(steps=5))
    cont = _train(cfg, "--out", str(root / "cont"), "--init-from", again["checkpoint"], "--minutes", "0")
    assert cont["steps"] == {"tokenizer": 4, "codec": 4, "generator": 4, "decoder": 4} and not cont["finalised"]
    rows = [json.loads(x) for x in (root / "cont" / "losses.jsonl").read_text().splitlines()]
    (init,) = [r for r in rows if r["stage"] == "init"]
    assert init["model_id"] == GoLModel.load(Path(again["checkpoint"])).model_id().hex()
    assert rows[0]["stage"] == "tokenizer" and rows[-1] is init  # the checkpoint folder's log came along


def test_budget_save_weights_check_and_finish(tiny_run, tmp_path):
    """The GPU lease's command on the CPU: time-capped stages end at the steps they reached, the
    weights come back through --save-weights with a cross-device check, and --init-from + --finish
    finalise them elsewhere; the check's files decode there to the same I-latents."""
    import torch

    from bench.gol.crossdevice import verify_check

    root, cfg, _, _ = tiny_run
    cfg.write_text(TINY.format(steps=100000))
    out, check = tmp_path / "out", tmp_path / "check"
    res = _train(cfg, "--out", str(tmp_path / "lease"), "--minutes", "5", "--save-weights", str(out / "gol.pt"),
                 "--check-dir", str(check), "--budget", "tokenizer=0.05,codec=0.05,generator=0.05,decoder=0.05")
    assert all(0 < v < 100000 for v in res["steps"].values()) and res["finalised"]  # every stage ran, then ended
    weights = GoLModel.load(out / "gol.pt")
    assert weights.card["steps"] == res["steps"] and weights.card["finalised"] is False
    torch.set_num_threads(1)
    rows = verify_check(weights, check)
    assert len(rows) == 3 and all(r["ok"] and r["max_abs_diff"] <= 1 for r in rows)
    done = _train(cfg, "--out", str(tmp_path / "here"), "--init-from", str(out / "gol.pt"), "--finish")
    assert done["finalised"] and done["steps"] == res["steps"]
    assert GoLModel.load(Path(done["checkpoint"])).model_id() == weights.model_id()
    bad = subprocess.run([sys.executable, "-m", "bench.gol.train", "--config", str(cfg), "--budget", "tokeniser=1"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no stage 'tokeniser'" in bad.stderr


def test_gpu_lease_script_on_the_cpu(tiny_run, tmp_path):
    """codecs/gol/train_on_gpu.sh, the command a GPU lease runs, with the tiny config on the CPU: it
    trains every stage within its budget and returns weights, check files, losses and log in parts."""
    import tarfile

    root, cfg, _, _ = tiny_run
    cfg.write_text(TINY.format(steps=100000))
    script = Path(__file__).resolve().parent.parent / "codecs" / "gol" / "train_on_gpu.sh"
    env = {**os.environ, "OUT": str(tmp_path / "out"), "MINUTES": "3", "RES": str(tmp_path / "res"),
           "RUN": str(tmp_path / "run"), "WHEELS": str(tmp_path / "no-wheels"),
           "BUDGET": "tokenizer=0.03,codec=0.03,generator=0.03,decoder=0.03"}
    res = subprocess.run(["bash", str(script), str(cfg), "--threads", "1"], env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    parts = sorted((tmp_path / "out").glob("result.tar.part-*"))
    assert parts
    (tmp_path / "joined.tar").write_bytes(b"".join(p.read_bytes() for p in parts))
    with tarfile.open(tmp_path / "joined.tar") as tar:
        names = {n.lstrip("./") for n in tar.getnames()}
    assert {"gol.pt", "losses.jsonl", "train.log", "check/check.json"} <= names
    # the loss network it trained with travels in the pack in half precision (the lease's 64 MiB)
    import torch

    from bench.gol.config import load_config, pack_folder
    from bench.metrics.weights import TORCHVISION_FILES, backbone

    packed = torch.load(pack_folder(load_config(cfg)) / "torch_home" / "hub" / "checkpoints" / TORCHVISION_FILES["alexnet"],
                        weights_only=True)
    state = backbone("alexnet")[0]
    assert {v.dtype for v in packed.values()} == {torch.float16} and packed.keys() == {f"features.{k}" for k in state}
    assert all(torch.equal(packed[f"features.{k}"], v.half()) for k, v in state.items())


def test_bad_config_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nname = 'x'\n")
    res = subprocess.run([sys.executable, "-m", "bench.gol.train", "--config", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.strip().count("\n") == 0 and "no [data] table" in res.stderr


def test_model_encode_decode_exact_and_refuses_other_weights(tiny_run):
    run = Path(tiny_run[3]["out"])
    model = GoLModel.load(run / "gol-tiny.pt")
    frames = np.random.default_rng(0).random((10, 40, 72, 3)).astype(np.float32)
    for mask in MASKS:
        data = model.encode(frames, mask, 1.0)
        a, b = model.decode(data), model.decode(data)
        assert a.shape == frames.shape and np.array_equal(a, b)
    other = GoLModel(model.config)
    with pytest.raises(ValueError, match="made by GoL weights"):
        other.decode(data, "x.gol")


def test_mode_decision_fits_each_rungs_bytes_and_comes_no_further(tiny_run):
    """``choose = rd``: for every rung, the chosen file is no larger than the rung's own, the latents
    the decoder makes of it are no further from the sequence's than the rung's own pair's, its header
    says what was chosen, and it was coded last (what an entropy coder's recorder keeps)."""
    import torch

    from bench.gol.mode_decision import choose, encode as encode_rd, rung_bpp

    model = GoLModel.load(Path(tiny_run[3]["out"]) / "gol-tiny.pt")
    frames = np.random.default_rng(2).random((12, 48, 80, 3)).astype(np.float32)
    t, h, w, _ = frames.shape
    with torch.no_grad():
        lat = model.latents_of(frames)
    moved = 0
    for mask, q, _ in model.ladder:
        hdr = Header(model.model_id(), w, h, t, mask, q)
        own = model.file_of(lat, hdr)
        own_error = float(((model.decode_latents(own)[1] - lat) ** 2).mean())
        best, tried = choose(model, lat, hdr)
        assert (mask, hdr.q) in {(c.mask, c.q) for c in tried} and all(len(c.data) <= len(own) for c in tried)
        assert len(best.data) <= len(own) and best.error <= own_error
        assert (Header.unpack(best.data).mask, Header.unpack(best.data).q) == (best.mask, best.q)
        assert torch.equal(model.decode_latents(best.data)[1], model.decode_latents(best.data)[1])
        moved += (best.mask, best.q) != (mask, hdr.q)
    assert moved  # on some rung another pair came closer within the same bytes
    # encode: rung r's budget is the card's bpp there (log-interpolated between rungs) times the pixels,
    # growing with r whatever the content; a file fits it unless even the cheapest file does not
    cheapest = min(len(model.file_of(lat, Header(model.model_id(), w, h, t, m, 0.0))) for m in MASKS)
    rungs = [k / 4 for k in range(4 * (len(model.ladder) - 1) + 1)]
    budgets = [rung_bpp(model, r) * t * h * w / 8 for r in rungs]
    assert budgets == sorted(budgets) and budgets[0] < budgets[-1]
    top_file = len(model.file_of(lat, Header(model.model_id(), w, h, t, *model.ladder[-1])))
    below_top = [(r, b) for r, b in zip(rungs, budgets) if r <= rungs[-1] - 1]
    for r, budget in [*below_top[::3], (rungs[-1], max(budgets[-1], top_file))]:
        best, tried = encode_rd(model, frames, r)
        assert len(best.data) <= budget + 1 or len(best.data) == cheapest
        assert best.error == min(c.error for c in tried)
    # the top rung reaches at least its own pair's file, however the card's clip compared
    assert (model.ladder[-1][0], model.ladder[-1][1]) in {(c.mask, c.q) for c in encode_rd(model, frames, rungs[-1])[1]}


def test_entropy_model_does_not_depend_on_thread_count(tiny_run):
    """The coder's means and scales are float64 on the CPU, so a file encoded with 2 threads decodes
    with 1 to the same I-latents (a desynchronised rANS decoder would give garbage, not a rounding)."""
    import torch

    model = GoLModel.load(Path(tiny_run[3]["out"]) / "gol-tiny.pt")
    frames = np.random.default_rng(1).random((8, 64, 96, 3)).astype(np.float32)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        data = model.encode(frames, "1111", 1.0)
        two = model.codec.decompress(data[HEADER_BYTES:], 2, model.latent_size(64, 96), 1.0)
        torch.set_num_threads(1)
        one = model.codec.decompress(data[HEADER_BYTES:], 2, model.latent_size(64, 96), 1.0)
    finally:
        torch.set_num_threads(before)
    assert torch.allclose(one, two, atol=1e-5)


def test_missing_weights_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_GOL_WEIGHTS", str(tmp_path / "none.pt"))
    with pytest.raises(CodecUnavailable, match="codec gol: weights .*none.pt are missing .*BENCH_GOL_WEIGHTS"):
        create_codec("gol").check_available()
    (tmp_path / "none.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CodecUnavailable, match="is not a GoL checkpoint"):
        create_codec("gol").check_available()


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["tiny", "shipped"])
def test_gol_sweep_real_files_decoded_exactly_from_the_file(weights, tiny_run, tmp_path, monkeypatch):
    if weights == "tiny":
        # relative, as users type it: the driver runs in a working folder of its own
        checkpoint = Path(tiny_run[3]["checkpoint"])
        monkeypatch.chdir(checkpoint.parent)
        monkeypatch.setenv("BENCH_GOL_WEIGHTS", checkpoint.name)
    elif not SHIPPED_WEIGHTS.is_file():
        pytest.skip(f"no shipped GoL checkpoint at {SHIPPED_WEIGHTS}")
    store = tmp_path / "r.sqlite"
    assert main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "gol", "--bpp", "0.02",
                 "--frames", "6", "--jobs", "1", "--no-progress", "--store", str(store)]) == 0
    with Store(store, readonly=True) as st:
        (row,) = st.results()
    assert row["status"] in ("ok", "unreachable") and row["bits_source"] == "file"
    assert row["bits"] == Path(row["bitstream"]).stat().st_size * 8
    cfg = row["config"]["codec"]
    meta = row["config"]["bitstream_meta"]
    assert cfg["checkpoint"]["sha256"] and cfg["ladder"] and meta["mask"] in MASKS and cfg["options"]["choose"] == "rd"
    assert meta["tried"] and {"mask": meta["mask"], "q": meta["q"]}.items() <= min(
        meta["tried"], key=lambda c: c["latent_mse"]).items()
    assert np.isfinite(row["metrics"]["psnr_y"])
    codec = create_codec("gol")
    src = prepared_source(row["config"]["sequence"])
    bs = Bitstream([Path(row["bitstream"])], row["knob"], [], 0.0)
    a = codec.decode(bs, src, tmp_path / "a").path.read_bytes()
    b = codec.decode(bs, src, tmp_path / "b").path.read_bytes()
    assert a == b and len(a) == src.format.frame_bytes * 6
    if weights == "tiny":  # the rung's own pair, as the ladder says, is another configuration of the codec
        assert main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "gol", "--bpp", "0.02",
                     "--frames", "6", "--jobs", "1", "--no-progress", "--store", str(store),
                     "--codec-opt", "gol.choose=rung"]) == 0
        with Store(store, readonly=True) as st:
            rows = st.results()
        (plain,) = [r for r in rows if r["config"]["codec"]["options"]["choose"] == "rung"]
        meta = plain["config"]["bitstream_meta"]
        assert len(rows) == 2 and "tried" not in meta and cfg["ladder"][int(plain["knob"])] == f"{meta['mask']}/q{meta['q']:g}"
        assert plain["knob_name"] == "rung" and row["knob_name"] == "quarter_rung"


def test_init_from_with_another_sampling_temperature(tiny_run, tmp_path):
    """``[model] sample_temperature = 0`` on a finished checkpoint without it: --init-from --finish keeps
    every weight, adds the temperature (a new model id) and measures the card again; the result codes
    and decodes; a config that differs in anything else is still refused."""
    import torch

    root, _, _, done = tiny_run
    cold = root / "cold.toml"
    cold.write_text(TINY.format(steps=3).replace("sample_steps = 2", "sample_steps = 2\nsample_temperature = 0.0"))
    res = _train(cold, "--out", str(tmp_path / "cold"), "--init-from", done["checkpoint"], "--finish")
    old, new = GoLModel.load(Path(done["checkpoint"])), GoLModel.load(Path(res["checkpoint"]))
    assert res["finalised"] and res["steps"] == old.card["steps"] and new.model_id() != old.model_id()
    assert float(new.generator.temperature) == 0.0
    a, b = old.state_dict(), new.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    frames = np.random.default_rng(0).random((8, 64, 64, 3), dtype=np.float32)
    assert new.decode(new.encode(frames, "1000", 1.0)).shape == frames.shape
    other = root / "other.toml"
    other.write_text(TINY.format(steps=3).replace("sample_steps = 2", "sample_steps = 3"))
    bad = subprocess.run([sys.executable, "-m", "bench.gol.train", "--config", str(other), "--out", str(tmp_path / "o"),
                          "--init-from", done["checkpoint"], "--finish"], capture_output=True, text=True)
    assert bad.returncode == 2 and "differs from the config" in bad.stderr


def test_init_from_with_a_fresh_wider_generator_trained_on_its_samples(tiny_run, tmp_path):
    """``--reset generator`` with ``--init-from``: the config may give the generator another width
    (every other weight is the checkpoint's), and ``[stage_generator] regress`` trains the sampler's
    output against the true P-latents beside the flow loss (both logged); without the reset the
    other width is refused."""
    import torch

    root, _, _, done = tiny_run
    wide = root / "wide.toml"
    text = TINY.format(steps=4).replace("gen_width = 16", "gen_width = 24\nsample_temperature = 0.0")
    wide.write_text(text.replace("[stage_generator]\n", "[stage_generator]\nregress = 1.0\n"))
    bad = subprocess.run([sys.executable, "-m", "bench.gol.train", "--config", str(wide), "--out", str(tmp_path / "b"),
                          "--init-from", done["checkpoint"], "--finish"], capture_output=True, text=True)
    assert bad.returncode == 2 and "differs from the config" in bad.stderr
    out = tmp_path / "wide"
    res = _train(wide, "--out", str(out), "--init-from", done["checkpoint"], "--reset", "generator",
                 "--budget", "tokenizer=0,codec=0,decoder=0")
    old, new = GoLModel.load(Path(done["checkpoint"])), GoLModel.load(Path(res["checkpoint"]))
    assert res["finalised"] and new.config["gen_width"] == 24 and res["steps"]["generator"] == 4
    a, b = old.state_dict(), new.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a if not k.startswith("generator."))
    rows = [json.loads(line) for line in (out / "losses.jsonl").read_text().splitlines()]
    rows = rows[max(i for i, r in enumerate(rows) if r.get("stage") == "init"):]  # this run's (the log came along)
    gen = [r for r in rows if r.get("stage") == "generator" and "step" in r]
    assert len(gen) == 4 and all(r["regress"] > 0 and r["flow"] > 0 for r in gen)
    frames = np.random.default_rng(0).random((8, 64, 64, 3), dtype=np.float32)
    assert new.decode(new.encode(frames, "1000", 1.0)).shape == frames.shape


def test_codec_of_another_down_starts_from_the_checkpoints_codec():
    """``adapt_state``: a 4x codec's weights load (strictly) into a 2x codec and back, the layers they
    share carried over, the ones after the resampling layers moved to their new places."""
    import torch

    from bench.gol.latent_codec import LatentCodec, adapt_state

    four = LatentCodec(4, 16, 8, 2, down=4)
    two = LatentCodec(4, 16, 8, 2, down=2)
    state = adapt_state({f"codec.{k}": v for k, v in four.state_dict().items()}, 4, 2)
    two.load_state_dict({k[len("codec."):]: v for k, v in state.items()})  # strict: every key fits
    a, b = four.state_dict(), two.state_dict()
    assert torch.equal(a["g_a.2.0.weight"], b["g_a.2.0.weight"]) and torch.equal(a["g_a.4.weight"], b["g_a.3.weight"])
    assert torch.equal(a["g_s.5.weight"], b["g_s.4.weight"]) and torch.equal(a["g_s.4.c1.weight"], b["g_s.3.c1.weight"])
    back = adapt_state({f"codec.{k}": v for k, v in two.state_dict().items()}, 2, 4)
    assert set(back) < {f"codec.{k}" for k in a} and not any(k.startswith("codec.g_a.3.") for k in back)
    with pytest.raises(ValueError, match="down must be 2 or 4"):
        LatentCodec(4, 16, 8, 2, down=8)


@pytest.fixture(scope="module")
def tiny_2x(tiny_run):
    """The tiny checkpoint's codec made 2x (``codec_down = 2``) and trained on alone, from its weights."""
    root, _, _, done = tiny_run
    cfg = root / "down2.toml"
    cfg.write_text(TINY.format(steps=4).replace("levels = 2", "levels = 2\ncodec_down = 2"))
    return _train(cfg, "--out", str(root / "d2"), "--init-from", done["checkpoint"],
                  "--budget", "tokenizer=0,generator=0,decoder=0")


def test_init_from_with_a_codec_of_another_down(tiny_run, tiny_2x):
    """``[model] codec_down = 2`` on a 4x checkpoint: --init-from keeps every other weight, warm-starts
    the codec, trains it on, and the result codes and decodes real files exactly."""
    import torch

    done, res = tiny_run[3], tiny_2x
    old, new = GoLModel.load(Path(done["checkpoint"])), GoLModel.load(Path(res["checkpoint"]))
    assert res["finalised"] and new.codec.down == 2 and res["steps"]["codec"] == 4 and new.model_id() != old.model_id()
    a, b = old.state_dict(), new.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a if not k.startswith("codec."))
    frames = np.random.default_rng(0).random((10, 40, 72, 3)).astype(np.float32)
    for mask in ("1111", "1000"):
        data = new.encode(frames, mask, 1.0)
        x, y = new.decode(data), new.decode(data)
        assert x.shape == frames.shape and np.array_equal(x, y)


def test_decoder_trained_on_with_a_warmed_up_discriminator_that_comes_back(tiny_run, tmp_path):
    """The decoder stage alone, --init-from a finished checkpoint (which has no discriminator): the
    fresh discriminator trains alone for ``disc_warmup`` updates first (the decoder's steps do not
    count them), stages with no minutes make no latents, and --save-weights keeps the discriminator
    beside the weights (``gol.disc.pt``), which the next --init-from takes on (no warm-up again)."""
    import torch

    from bench.gol.train import disc_path

    root, _, _, done = tiny_run
    cfg = root / "dec.toml"
    cfg.write_text(TINY.format(steps=100000).replace("adversarial = 0.1\n", "adversarial = 0.1\ndisc_warmup = 3\n"))
    budget = "tokenizer=0,codec=0,generator=0,decoder=0.05"
    first, w1 = tmp_path / "first", tmp_path / "w1" / "gol.pt"
    res = _train(cfg, "--out", str(first), "--init-from", done["checkpoint"], "--budget", budget,
                 "--save-weights", str(w1), "--no-finalise")
    old = GoLModel.load(Path(done["checkpoint"]))
    assert res["steps"]["decoder"] > old.card["steps"]["decoder"]
    assert {k: res["steps"][k] for k in ("tokenizer", "codec", "generator")} == \
        {k: old.card["steps"][k] for k in ("tokenizer", "codec", "generator")}
    assert not (first / "latents.pt").exists()
    rows = [json.loads(line) for line in (first / "losses.jsonl").read_text().splitlines()]
    rows = rows[max(i for i, r in enumerate(rows) if r.get("stage") == "init"):]
    warm = [r for r in rows if r.get("stage") == "disc_warmup"]
    assert [r["disc_steps"] for r in warm] == [1, 2, 3]
    assert rows.index(warm[-1]) < min(i for i, r in enumerate(rows) if r.get("stage") == "decoder" and "step" in r)
    saved = torch.load(disc_path(w1), weights_only=False)
    trained = res["steps"]["decoder"] - old.card["steps"]["decoder"]
    assert disc_path(w1).name == "gol.disc.pt" and saved["disc_steps"] == 3 + trained
    new, ref = GoLModel.load(w1).state_dict(), old.state_dict()
    changed = {k for k in ref if not torch.equal(ref[k], new[k])}
    assert changed and all(k.startswith(("tokenizer.dec.", "tokenizer.lin.dec.")) for k in changed)
    second = tmp_path / "second"
    _train(cfg, "--out", str(second), "--init-from", str(w1), "--budget", budget, "--no-finalise")
    rows = [json.loads(line) for line in (second / "losses.jsonl").read_text().splitlines()]
    assert not [r for r in rows[max(i for i, r in enumerate(rows) if r.get("stage") == "init"):]
                if r.get("stage") == "disc_warmup"]
    disc_path(w1).write_bytes(disc_path(w1).read_bytes()[:1000])  # truncated: one line naming it, exit 2
    bad = subprocess.run([sys.executable, "-m", "bench.gol.train", "--config", str(cfg), "--out", str(tmp_path / "bad"),
                          "--init-from", str(w1), "--budget", budget, "--no-finalise"], capture_output=True, text=True)
    assert bad.returncode == 2 and "gol.disc.pt: not a discriminator" in bad.stderr
    assert bad.stderr.strip().count("\n") == 0


def _decoder_variant(root: Path, name: str, model: str = "", decoder: str = "") -> Path:
    """The tiny config with ``model`` lines added to its [model] and ``decoder`` lines to its
    [stage_decoder], and a target no command reaches, as ``root/NAME.toml``."""
    cfg = root / f"{name}.toml"
    cfg.write_text(TINY.format(steps=100000).replace("sample_steps = 2\n", f"sample_steps = 2\n{model}")
                   .replace("generated = 0.5\n", f"generated = 0.5\n{decoder}"))
    return cfg


def _refuses_to_lose_a_part(root: Path, tmp_path: Path, weights: Path) -> None:
    """A checkpoint whose decoder gained a part cannot go on under the plain tiny config."""
    from bench.errors import InputError
    from bench.gol.config import load_config
    from bench.gol.train import Trainer

    back = root / "plain.toml"
    back.write_text(TINY.format(steps=100000))
    with pytest.raises(InputError, match="differs from the config"):
        Trainer(load_config(back), tmp_path / "b", "cpu", weights)


def test_decoder_stage_on_windows_of_latents_as_a_file_holds_them(tiny_run, tmp_path):
    """``[stage_decoder] window = true``: the decoder trains on latents as decoding makes them (a
    generator window, every latent coded at one quality from ``q = [lo, hi]``, the latents of a mask
    pattern generated from both sides), one adjacent pair of each window with its own frames."""
    import torch

    from bench.gol.config import load_config
    from bench.gol.generator import ABSENT, GENERATE, WINDOW
    from bench.gol.train import Trainer

    root, _, _, done = tiny_run
    cfg = _decoder_variant(root, "window", decoder="window = true\nq = [1.0, 1.0]\n")
    tr = Trainer(load_config(cfg), tmp_path / "t", "cpu", Path(done["checkpoint"]))
    sc = tr.stage_config("decoder")
    assert float(tr.coding_qualities(100, {"q": [0.5, 0.75]}).min()) >= 0.5
    for _ in range(300):  # a pattern always leaves a pair to train on
        flags = tr.window_flags({"generated": 1.0})
        assert GENERATE in flags and any(ABSENT not in flags[k:k + 2] for k in range(WINDOW))
    x, z, st = tr.decoder_batch({**sc, "generated": 0.0})  # nothing generated: the pair is its frames, coded at q 1
    assert x.shape[:2] == (2, 8) and z.shape[:2] == (2, 2)
    assert st[..., 1].eq(1).all() and torch.allclose(st[..., 3], torch.ones(2, 2))  # coded, at the top quality
    tok, codec = tr.model.tokenizer, tr.model.codec
    with torch.no_grad():
        again = tok.denormalise(codec(tok.encode(x.flatten(0, 1)), torch.ones(4))[0]).unflatten(0, (2, 2))
    assert torch.allclose(again, z, atol=1e-4)
    res = _train(cfg, "--out", str(tmp_path / "run"), "--init-from", done["checkpoint"], "--no-finalise",
                 "--budget", "tokenizer=0,codec=0,generator=0,decoder=0.05")
    assert res["steps"]["decoder"] > GoLModel.load(Path(done["checkpoint"])).card["steps"]["decoder"]


def test_a_decoder_that_gains_its_conditioning_starts_as_it_was_and_learns_from_clean_windows(tiny_run, tmp_path):
    """``[model] decoder_condition = true``: the decoder is told what each latent is (clean, coded at
    q, generated); ``--init-from`` an unconditioned checkpoint starts it exactly where that one was
    (its new layers at zero), ``[stage_decoder] uncoded`` windows train it on the tokenizer's own
    latents, a file decodes with the states its header gives, and the way back is refused."""
    import torch

    from bench.gol.config import load_config
    from bench.gol.train import Trainer
    from bench.gol.tokenizer import CLEAN, CODED, GENERATED

    root, _, _, done = tiny_run
    cfg = _decoder_variant(root, "cond", "decoder_condition = true\n", "window = true\nuncoded = 0.5\n")
    plain = GoLModel.load(Path(done["checkpoint"]))
    tr = Trainer(load_config(cfg), tmp_path / "t", "cpu", Path(done["checkpoint"]))
    frames = np.random.default_rng(3).random((8, 40, 72, 3)).astype(np.float32)
    with torch.no_grad():
        lat = plain.latents_of(frames)
        states = tr.model.latent_states({0}, 1.0, len(lat))
        assert np.array_equal(plain.frames_of(lat, 8, 40, 72), tr.model.frames_of(lat, 8, 40, 72, states))
    assert states[:, :3].argmax(1).tolist() == [CODED, GENERATED]
    kinds = set()
    for _ in range(20):
        x, z, st = tr.decoder_batch(tr.stage_config("decoder"))
        kinds |= set(st[..., :3].argmax(-1).flatten().tolist())
        clean = st[..., 0].eq(1).all(1)
        if clean.any():  # a clean window's pair is the tokenizer's own latents of its frames
            with torch.no_grad():
                own = tr.model.tokenizer.encode_raw(x[clean].flatten(0, 1)).unflatten(0, (-1, 2))
            assert torch.allclose(own, z[clean], atol=1e-4)
    assert {CLEAN, CODED, GENERATED} <= kinds
    sc = tr.stage_config("decoder")
    assert "psnr_clean" in tr.step_decoder({**sc, "uncoded": 1.0}) and "psnr_coded" not in tr.step_decoder({**sc, "uncoded": 1.0})
    assert "psnr_coded" in tr.step_decoder({**sc, "uncoded": 0.0})  # the log tells clean pairs from the others
    res = _train(cfg, "--out", str(tmp_path / "run"), "--init-from", done["checkpoint"], "--no-finalise",
                 "--budget", "tokenizer=0,codec=0,generator=0,decoder=0.05", "--save-weights", str(tmp_path / "w.pt"))
    trained = GoLModel.load(tmp_path / "w.pt")
    assert any(float(p.detach().abs().sum()) > 0 for p in trained.tokenizer.dec_film.parameters())
    data = trained.encode(frames, "1010", 1.0)
    assert np.array_equal(trained.decode(data), trained.decode(data)) and res["steps"]["decoder"] > 0
    _refuses_to_lose_a_part(root, tmp_path, tmp_path / "w.pt")


def test_a_decoder_that_gains_its_look_ahead_starts_as_it_was_and_trains_on_runs_of_three(tiny_run, tmp_path):
    """``[model] decoder_look_ahead = true``: the decoder also sees the next latent; ``--init-from`` a
    checkpoint without it starts exactly where that one was (its convolution at zero), the decoder
    stage trains on runs of three adjacent latents of a window, a sequence decoded in chunks is
    decoded as if whole (each chunk sees the latent after it), and the way back is refused."""
    import torch

    from bench.gol.config import load_config
    from bench.gol.generator import ABSENT, WINDOW
    from bench.gol.train import Trainer

    root, _, _, done = tiny_run
    cfg = _decoder_variant(root, "ahead", "decoder_look_ahead = true\n", "window = true\n")
    plain = GoLModel.load(Path(done["checkpoint"]))
    tr = Trainer(load_config(cfg), tmp_path / "t", "cpu", Path(done["checkpoint"]))
    frames = np.random.default_rng(4).random((16, 40, 72, 3)).astype(np.float32)
    with torch.no_grad():
        lat = plain.latents_of(frames)
        assert np.array_equal(plain.frames_of(lat, 16, 40, 72), tr.model.frames_of(lat, 16, 40, 72))
    assert tr.run_length == 3
    for _ in range(300):  # a pattern always leaves a run of three to train on
        flags = tr.window_flags({"generated": 1.0})
        assert any(ABSENT not in flags[k:k + 3] for k in range(WINDOW - 1))
    x, z, st = tr.decoder_batch(tr.stage_config("decoder"))
    assert x.shape[:2] == (2, 12) and z.shape[:2] == (2, 3) and st.shape[:2] == (2, 3)
    res = _train(cfg, "--out", str(tmp_path / "run"), "--init-from", done["checkpoint"], "--no-finalise",
                 "--budget", "tokenizer=0,codec=0,generator=0,decoder=0.05", "--save-weights", str(tmp_path / "w.pt"))
    trained = GoLModel.load(tmp_path / "w.pt")
    assert float(trained.tokenizer.dec_next.weight.abs().sum()) > 0 and res["steps"]["decoder"] > 0
    with torch.no_grad():
        lat = trained.latents_of(frames)
        whole = trained.tokenizer.decode(lat[:, :, :5, :9])  # four latents in one call; frames_of decodes two at a time
        assert torch.allclose(torch.from_numpy(trained.frames_of(lat, 16, 40, 72)),
                              ((whole[:, :, :40, :72] + 1) / 2).permute(0, 2, 3, 1), atol=1e-5)
        later = lat.clone()
        later[2:] = 0  # the next latent changes the group before it: the frames of latent 1 change
        assert not np.array_equal(trained.frames_of(lat, 16, 40, 72)[4:8], trained.frames_of(later, 16, 40, 72)[4:8])
    data = trained.encode(frames, "1010", 1.0)
    assert np.array_equal(trained.decode(data), trained.decode(data))
    _refuses_to_lose_a_part(root, tmp_path, tmp_path / "w.pt")


def test_two_codecs_in_one_model_joined_finalised_and_chosen_between(tiny_run, tiny_2x, tmp_path, capsys):
    """``bench.gol.combine``: the 4x checkpoint's codec is codec 0 and the 2x one's codec 1 of one model;
    each codes exactly as it did alone; the card measures both and the ladder may take either; the
    mode decision tries both and a file of either decodes from the file alone. A checkpoint trained
    on other weights is refused, and so is training the codec stage under two codecs (codec 0 alone);
    its decoder stage draws each batch's codec."""
    import torch

    from bench.gol.combine import main as combine_main
    from bench.gol.mode_decision import encode as encode_rd

    root, _, _, done = tiny_run
    joined = tmp_path / "joined.pt"
    assert combine_main(["--base", done["checkpoint"], "--codec-from", tiny_2x["checkpoint"], "--out", str(joined)]) == 0
    four, two, both = (GoLModel.load(Path(x)) for x in (done["checkpoint"], tiny_2x["checkpoint"], joined))
    assert both.num_codecs == 2 and both.codec_at(1).down == 2 and both.config["extra_codecs"] == [2]
    frames = np.random.default_rng(3).random((10, 40, 72, 3)).astype(np.float32)
    t, h, w, _ = frames.shape
    with torch.no_grad():
        lat = both.latents_of(frames)
        for alone, codec in ((four, 0), (two, 1)):  # the same stream as the checkpoint it came from
            mine = both.file_of(lat, Header(both.model_id(), w, h, t, "1010", 1.0, codec))
            theirs = alone.file_of(lat, Header(alone.model_id(), w, h, t, "1010", 1.0))
            assert mine[Header.unpack(mine).size:] == theirs[16:] and Header.unpack(mine).codec == codec
            a, b = both.decode(mine), both.decode(mine)
            assert a.shape == frames.shape and np.array_equal(a, b)
    with pytest.raises(ValueError, match="coded by I-latent codec 1, these weights have 1"):
        alone_id = Header(four.model_id(), w, h, t, "1111", 1.0, 1)
        four.decode(alone_id.pack() + b"\0" * 64, "y.gol")
    # finalised under a config that names the extra codec: the card measures both, the ladder is one front
    cfg = root / "joined.toml"
    cfg.write_text(TINY.format(steps=3).replace("levels = 2", "levels = 2\nextra_codecs = [2]"))
    fin = _train(cfg, "--out", str(tmp_path / "fin"), "--init-from", str(joined), "--finish")
    model = GoLModel.load(Path(fin["checkpoint"]))
    assert fin["finalised"] and model.model_id() == both.model_id()
    assert {e.get("codec", 0) for e in model.card["ladder"]} == {0, 1} and len(model.card["ladder"]) == 2 * 4 * 3
    assert model.ladder == pareto_ladder(model.card["ladder"])
    card = (tmp_path / "fin" / "MODEL_CARD.md").read_text()
    assert "| rung | mask | q | codec | bpp |" in card and "extra I-latent codecs" in card
    best, tried = encode_rd(model, frames, len(model.ladder) - 1)
    assert {c.codec for c in tried} == {0, 1} and best.error == min(c.error for c in tried)
    assert np.array_equal(model.decode(best.data), model.decode(best.data))
    # each codec comes out again as the one-codec model it came from, with its steps; a one-codec config
    # --init-from the joined model starts from its codec of the config's codec_down, which can be trained
    # on and put back in its place
    from bench.gol.combine import combine, single_codec

    assert [single_codec(model, i).model_id() for i in (0, 1)] == [four.model_id(), two.model_id()]
    assert single_codec(model, 1).card["steps"]["codec"] == tiny_2x["steps"]["codec"] == 4
    assert "codec 1 4" in card and "1 (2x) from model `" + two.model_id().hex() in card
    on = _train(root / "down2.toml", "--out", str(tmp_path / "on"), "--init-from", fin["checkpoint"], "--minutes", "0")
    assert on["steps"]["codec"] == 4
    inits = [json.loads(x) for x in (tmp_path / "on" / "losses.jsonl").read_text().splitlines()
             if json.loads(x)["stage"] == "init"]  # the last: the checkpoint folder's log came along
    assert inits[-1]["model_id"] == two.model_id().hex()
    assert combine(model, [two]).model_id() == model.model_id()  # the same 2x codec, in the same place
    with pytest.raises(ValueError, match="its codec is 4x, as the base's codec 0 is"):
        combine(four, [four])
    # refused: a codec trained on other weights; the codec stage under a config with extra codecs (it would
    # train codec 0 alone; the tokenizer stage's budget is spent)
    stranger = tmp_path / "stranger.pt"
    GoLModel(two.config).save(stranger)
    assert combine_main(["--base", done["checkpoint"], "--codec-from", str(stranger), "--out", str(tmp_path / "x.pt")]) == 2
    assert "stranger.pt: " in capsys.readouterr().err and not (tmp_path / "x.pt").exists()
    cfg.write_text(TINY.format(steps=6).replace("levels = 2", "levels = 2\nextra_codecs = [2]"))
    res = subprocess.run([sys.executable, "-m", "bench.gol.train", "--config", str(cfg), "--threads", "1", "--out",
                          str(tmp_path / "fin"), "--budget", "tokenizer=0"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 2 and "the codec stage would train on under extra I-latent codecs (it trains codec 0 " \
        "alone)" in res.stderr
    # the decoder stage under it learns both codecs' output: each batch's codec drawn; codecs left as they were
    from bench.gol.config import load_config
    from bench.gol.train import Trainer

    tr = Trainer(load_config(cfg), tmp_path / "dec", "cpu", Path(fin["checkpoint"]))
    seen, codec_at = [], tr.model.codec_at
    tr.model.codec_at = lambda k: seen.append(k) or codec_at(k)
    with torch.no_grad():
        z = tr.model.latents_of(frames)
    for _ in range(16):
        assert tr.coded(z, torch.ones(len(z))).shape == z.shape
    assert set(seen) == {0, 1}
    dec = _train(cfg, "--out", str(tmp_path / "dec2"), "--init-from", fin["checkpoint"], "--no-finalise", "--budget",
                 "tokenizer=0,codec=0,generator=0,decoder=0.05", "--save-weights", str(tmp_path / "dec.pt"))
    after = GoLModel.load(tmp_path / "dec.pt")
    assert dec["steps"]["decoder"] > model.card["steps"]["decoder"] and after.model_id() != model.model_id()
    for i in (0, 1):
        mine, was = after.codec_at(i).state_dict(), model.codec_at(i).state_dict()
        assert mine.keys() == was.keys() and all(torch.equal(mine[k], was[k]) for k in mine)
