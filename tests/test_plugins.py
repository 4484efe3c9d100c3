"""The registry of codecs and metrics: names, aliases, one-line errors, lazy imports, and plugins: a
package installed with pip (tests/plugins/bench-toy-plugin) adds a codec and a metric that
`bench list` shows and `bench run` uses, with no change to bench."""
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.codecs import CODECS, Codec
from bench.errors import InputError
from bench.metrics import METRICS, canonical_names
from bench.registry import Registry
from bench.results.store import Store

PLUGIN = Path(__file__).parent / "plugins" / "bench-toy-plugin"


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory) -> Path:
    """The toy plugin, installed by pip (no index, no dependencies, no build isolation: nothing is
    downloaded; setuptools comes with torch) into a folder of its own, which the commands below put
    on PYTHONPATH, so the environment itself is left as it was."""
    work = tmp_path_factory.mktemp("plugin")
    src = shutil.copytree(PLUGIN, work / "src")  # pip builds in the source folder: keep the repository clean
    site = work / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                          "--no-build-isolation", "--target", str(site), str(src)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert list(site.glob("bench_toy_plugin-*.dist-info"))
    return site


def bench(site: Path | None, *args):
    path = [str(site)] if site else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_unknown_names_suggest_the_nearest():
    with pytest.raises(InputError, match=r"unknown codec 'x256' \(did you mean 'x265'\? known: .*vvenc"):
        CODECS.get("x256")
    with pytest.raises(InputError, match=r"unknown metric 'lpip' \(did you mean 'lpips'\?"):
        canonical_names(["psnr", "lpip"])


def test_aliases_resolve_to_the_metric_that_computes_them():
    assert canonical_names(["kid", "fid", "psnr", "lpips-alex"]) == ["fid", "psnr", "lpips"]
    assert METRICS.aliases_of("fid") == ["kid"] and METRICS.get("kid").name == "fid"


def test_builtins_are_imported_only_when_used():
    code = ("import sys; from bench.codecs import create_codec; from bench.metrics import canonical_names; "
            "create_codec('x264'); canonical_names(['psnr']); "
            "print(sorted(m for m in sys.modules if m.startswith(('bench.codecs.', 'bench.metrics.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "bench.codecs.ffmpeg_codecs" in out and "bench.metrics.psnr" in out
    for unused in ("bench.codecs.gol", "bench.codecs.dcvc", "bench.metrics.lpips", "bench.metrics.fvd"):
        assert unused not in out


def test_a_broken_registration_is_one_line():
    reg = Registry("codec", Codec, {"broken": "no_such_module:Codec", "misnamed": "bench.codecs.ffmpeg_codecs:X265",
                                    "not-a-codec": "bench.errors:BenchError"})
    with pytest.raises(InputError, match="codec 'broken' .* cannot be imported: ModuleNotFoundError"):
        reg.get("broken")
    with pytest.raises(InputError, match="codec 'misnamed' .* names itself 'x265'"):
        reg.get("misnamed")
    with pytest.raises(InputError, match="codec 'not-a-codec' .* is not a subclass of bench.codecs.base.Codec"):
        reg.get("not-a-codec")


def test_installed_plugin_is_listed(plugin_site):
    codecs = bench(plugin_site, "list", "codecs")
    assert codecs.returncode == 0, codecs.stderr
    block = codecs.stdout[codecs.stdout.index("zlib-toy"):].splitlines()[:2]
    assert "knob shift 0..7" in block[0] and "(plugin bench-toy-plugin)" in block[0]
    assert block[1].strip().startswith("zlib-toy 0.1")  # available: its version, not UNAVAILABLE
    metrics = bench(plugin_site, "list", "metrics")
    assert "toy-mae" in metrics.stdout and "toy_mae_y" in metrics.stdout
    assert "zlib-toy" not in bench(None, "list", "codecs").stdout  # only where it is installed


def test_installed_plugin_runs_in_a_sweep(plugin_site, tmp_path):
    store = tmp_path / "r.sqlite"
    res = bench(plugin_site, "run", "--suite", "demo", "--sequences", "carphone", "--codecs", "zlib-toy,x264",
                "--bpp", "0.5", "--frames", "3", "--metrics", "psnr,toy-mae", "--jobs", "1", "--no-progress",
                "--store", str(store))
    assert res.returncode == 0, res.stderr
    with Store(store, readonly=True) as s:
        rows = {r.codec: r for r in s.results()}
    toy = rows["zlib-toy"]
    assert toy.status in ("ok", "unreachable") and toy.bits == Path(toy.bitstream).stat().st_size * 8
    assert math.isfinite(toy.metrics["psnr_y"]) and toy.metrics["toy_mae_y"] >= 0
    assert len(toy.per_frame["toy_mae_y"]) == 3 and toy.config["codec"]["version"].startswith("zlib-toy 0.1")
    assert "toy_mae_y" in rows["x264"].metrics  # a plugin metric measures every codec
    assert "zlib-toy" in bench(plugin_site, "report", "--text", "--store", str(store)).stdout
