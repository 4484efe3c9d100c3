"""GoL's generator sampling temperature (``[model] sample_temperature``): at 1 (the default) a model is
what it was; another value is another decoder, with its own model id, and at 0 sampling draws no noise."""
import torch

from bench.gol.generator import ABSENT, GENERATE, KNOWN, WINDOW, LatentGenerator
from bench.gol.model import GoLModel

SMALL = {"latent_ch": 4, "tok_width": 8, "codec_m": 16, "codec_n": 8, "levels": 2, "gen_width": 16, "sample_steps": 2}


def _model(**extra) -> GoLModel:
    torch.manual_seed(0)
    return GoLModel({**SMALL, **extra})


def test_temperature_one_adds_nothing_and_another_is_a_new_model():
    plain, one, cold = _model(), _model(sample_temperature=1.0), _model(sample_temperature=0.0)
    assert plain.model_id() == one.model_id() and "generator.temperature" not in plain.state_dict()
    assert cold.model_id() != plain.model_id()  # another decoder: files of one are refused by the other


def test_temperature_scales_the_noise_sampling_starts_from():
    known = torch.randn(1, WINDOW + 1, 4, 8, 8)
    flags = torch.tensor([[ABSENT, KNOWN, GENERATE, KNOWN, GENERATE]])
    out = {}
    for tau in (1.0, 0.0):
        torch.manual_seed(0)
        g = LatentGenerator(4, 16, temperature=tau).eval()
        torch.nn.init.normal_(g.out.weight, std=0.1)  # a trained generator's output is not zero
        out[tau] = [g.sample(known, flags, 2, seed=s) for s in (1, 2)]
        assert torch.equal(out[tau][0][:, [1, 3]], known[:, [1, 3]])  # known slots come back as given
    assert not torch.equal(*out[1.0])  # the seed's noise matters at 1
    assert torch.equal(*out[0.0])  # and not at 0: no noise left
