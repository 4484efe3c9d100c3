"""GoL training configs: a variant ``extends`` another and holds only what it changes."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import InputError
from bench.gol.config import clips_folder, load_config, pack_folder

CONFIGS = Path(__file__).resolve().parent.parent / "codecs" / "gol"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_config_of_the_repository_loads(path):
    cfg = load_config(path)
    assert cfg["run"]["name"] == path.stem and "extends" not in cfg


def test_a_variant_takes_its_base_key_by_key_and_its_paths_from_the_base_folder(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "base" / "a.toml").write_text(
        '[run]\nname = "a"\nout = "runs"\n[data]\nclips = "clips"\npack = "pack"\n[model]\nlatent_ch = 16\nwidth = 32\n'
        '[stage_tokenizer]\nsteps = 10\nlr = 1e-3\nlinear_init = "pca"\n[stage_codec]\nsteps = 5\n[stage_generator]\nsteps = 5\n')
    (tmp_path / "mine" / "b.toml").write_text(
        'extends = "../base/a.toml"\n[run]\nname = "b"\n[model]\nwidth = 64\n[stage_tokenizer]\nlr = 3e-4\n'
        '[stage_decoder]\nsteps = 7\n')
    cfg = load_config(tmp_path / "mine" / "b.toml")
    assert cfg["model"] == {"latent_ch": 16, "width": 64}
    assert cfg["stage_tokenizer"] == {"steps": 10, "lr": 3e-4, "linear_init": "pca"}
    assert cfg["stage_decoder"] == {"steps": 7} and cfg["run"]["name"] == "b"
    assert clips_folder(cfg) == (tmp_path / "base" / "clips").resolve()  # where the base said, not beside b.toml
    assert pack_folder(cfg) == (tmp_path / "base" / "pack").resolve()
    assert (tmp_path / "mine" / cfg["run"]["out"]).resolve() == (tmp_path / "base" / "runs").resolve()


def test_a_circle_or_a_missing_base_is_one_clear_error(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n[run]\nname = "a"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n[run]\nname = "b"\n')
    with pytest.raises(InputError, match="a.toml: extends b.toml goes round in a circle|b.toml: extends a.toml goes round"):
        load_config(tmp_path / "a.toml")
    (tmp_path / "c.toml").write_text('extends = "gone.toml"\n')
    with pytest.raises(InputError, match="gone.toml: not a readable TOML training config"):
        load_config(tmp_path / "c.toml")
