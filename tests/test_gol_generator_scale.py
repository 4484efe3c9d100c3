"""GoL's optional per-channel scale of the generator (``[model] gen_channel_scale``): off, a model is
what it was; on, callers still pass and get latents in the codec's space, a rescaled warm start
computes on known latents what the old generator did, and the trainer sets the scale to unit variance
per channel and starts from an old checkpoint's generator."""
import torch

from bench.gol.generator import ABSENT, GENERATE, KNOWN, WINDOW, LatentGenerator
from bench.gol.model import GoLModel

SMALL = {"latent_ch": 4, "tok_width": 8, "codec_m": 16, "codec_n": 8, "levels": 2, "gen_width": 16, "sample_steps": 2}


def _generator(seed: int, scale: bool) -> LatentGenerator:
    torch.manual_seed(seed)
    g = LatentGenerator(4, 16, channel_scale=scale)
    for p in g.out.parameters():  # a trained generator's output is not zero
        torch.nn.init.normal_(p, std=0.1)
    return g.eval()


def test_option_off_adds_nothing_and_on_is_a_new_model():
    torch.manual_seed(0)
    plain = GoLModel(SMALL)
    torch.manual_seed(0)
    off = GoLModel({**SMALL, "gen_channel_scale": False})
    torch.manual_seed(0)
    on = GoLModel({**SMALL, "gen_channel_scale": True})
    assert plain.model_id() == off.model_id()
    assert "generator.channel_scale" not in plain.state_dict()
    assert "generator.channel_scale" in on.state_dict()
    on.generator.channel_scale.fill_(3.0)
    assert on.model_id() != plain.model_id()


def test_rescaled_warm_start_computes_what_the_old_generator_did():
    old, new = _generator(0, False), _generator(1, True)
    new.channel_scale.copy_(torch.tensor([1.0, 4.0, 0.5, 10.0]))
    new.rescale_from(old)
    x = torch.randn(2, WINDOW + 1, 4, 8, 8)
    flags = torch.tensor([[ABSENT, KNOWN, GENERATE, KNOWN, GENERATE]] * 2)
    t = torch.tensor([0.3, 0.7])
    with torch.no_grad():
        v_old = old(x, flags, t)
        v_new = new(x * new.channel_scale[:, None, None], flags, t) / new.channel_scale[:, None, None]
    assert torch.allclose(v_old, v_new, atol=1e-5)


def test_sample_and_loss_take_latents_in_the_codecs_space():
    g = _generator(0, True)
    g.channel_scale.copy_(torch.tensor([1.0, 4.0, 0.5, 10.0]))
    known = torch.randn(1, WINDOW + 1, 4, 8, 8)
    flags = torch.tensor([[ABSENT, KNOWN, GENERATE, KNOWN, GENERATE]])
    out = g.sample(known, flags, 2, seed=5)
    assert torch.allclose(out[:, [1, 3]], known[:, [1, 3]], atol=1e-6)  # known slots come back as given
    assert torch.equal(out, g.sample(known, flags, 2, seed=5))  # seeded
    assert torch.isfinite(g.loss(known, known, flags))


def test_temperature_is_part_of_the_weights_and_scales_the_start_noise():
    torch.manual_seed(0)
    plain = GoLModel(SMALL)
    torch.manual_seed(0)
    one = GoLModel({**SMALL, "sample_temperature": 1.0})
    torch.manual_seed(0)
    cold = GoLModel({**SMALL, "sample_temperature": 0.0})
    assert plain.model_id() == one.model_id() and "generator.temperature" not in plain.state_dict()
    assert cold.model_id() != plain.model_id()  # another decoder: files of one are refused by the other
    torch.manual_seed(0)
    g = LatentGenerator(4, 16, temperature=0.0)
    torch.nn.init.normal_(g.out.weight, std=0.1)
    known = torch.randn(1, WINDOW + 1, 4, 8, 8)
    flags = torch.tensor([[ABSENT, KNOWN, GENERATE, KNOWN, GENERATE]])
    assert torch.equal(g.sample(known, flags, 2, seed=1), g.sample(known, flags, 2, seed=2))  # no noise left
