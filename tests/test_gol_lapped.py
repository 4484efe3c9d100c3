"""GoL's optional linear lapped path of the tokenizer (``[model] linear_path``): it builds, encodes and
decodes the right shapes, starts as exactly the linear transform, its PCA start reconstructs, and with
the option off (the default) a model and the shipped checkpoint are what they were."""
import numpy as np
import pytest
import torch

from bench.errors import InputError
from bench.gol import SHIPPED_WEIGHTS
from bench.gol.data import LatentSampler, latent_statistics
from bench.gol.lapped import LappedLinear, block_pca, pca_init
from bench.gol.model import GoLModel

SMALL = {"latent_ch": 4, "tok_width": 8, "codec_m": 16, "codec_n": 8, "levels": 2, "gen_width": 16, "sample_steps": 2}


def _model(seed: int = 0, **extra) -> GoLModel:
    torch.manual_seed(seed)
    return GoLModel({**SMALL, **extra})


def test_option_off_leaves_the_model_and_the_shipped_checkpoint_unchanged():
    plain, off = _model(), _model(linear_path=False)
    assert plain.model_id() == off.model_id()
    assert not any(".lin." in k for k in plain.state_dict())
    assert plain.tokenizer.lin is None
    shipped = torch.load(SHIPPED_WEIGHTS, map_location="cpu", weights_only=True)
    assert GoLModel.load(SHIPPED_WEIGHTS).model_id().hex() == shipped["model_id"]


def test_linear_path_builds_encodes_and_decodes_the_right_shapes():
    on = _model(linear_path=True)
    assert on.model_id() != _model().model_id()  # a new model, with its own id
    assert any(k.startswith("tokenizer.lin.") for k in on.state_dict())
    frames = np.random.default_rng(0).random((6, 60, 72, 3), dtype=np.float32)  # padded to 8 frames, 64x72
    with torch.no_grad():
        lat = on.latents_of(frames)
        out = on.frames_of(lat, 6, 60, 72)
    assert lat.shape[:2] == (2, 4) and lat.shape[-2:] == on.latent_size(60, 72)
    assert out.shape == (6, 60, 72, 3) and np.isfinite(out).all()
    # a fresh tokenizer with the path is exactly its linear transform (the networks' last layers are 0)
    tok = on.tokenizer
    x = torch.rand(8, 3, 32, 48) * 2 - 1
    groups = x.reshape(2, 12, 32, 48)
    z = tok.encode_raw(x)
    assert torch.allclose(z, tok.lin.encode(groups))
    assert torch.allclose(tok.decode_raw(z, z).flatten(1, 2), tok.lin.decode(z))
    # the decoder stage trains the linear decoder too, never the linear encoder
    dec = {id(p) for p in tok.decoder_parameters()}
    assert all(id(p) in dec for p in tok.lin.dec.parameters())
    assert not any(id(p) in dec for p in tok.lin.enc.parameters())


def test_block_pca_start_reconstructs():
    """With every component kept, the PCA start of a lapped transform reconstructs smooth frames
    (up to the mean's variation within a block)."""
    g = torch.Generator().manual_seed(0)
    small = torch.rand(6, 3, 5, 6, generator=g) * 2 - 1
    x = torch.nn.functional.interpolate(small, size=(40, 48), mode="bilinear", align_corners=False)
    lin = LappedLinear(frames=1, channels=3 * 16, stride=4, kernel=8)
    mean, u = block_pca([x], 3 * 16, block=4)
    assert u.shape == (48, 48)
    pca_init(lin, mean, u)
    z = lin.encode(x)
    assert z.shape == (6, 48, 10, 12)
    assert (lin.decode(z) - x).abs().mean() < 0.05


def test_global_normalisation_keeps_the_channels_relative_energies():
    """``[stage_codec] normalise = "global"`` scales every channel by one std (the root mean variance),
    so a PCA-like latent keeps its energy compaction; "channel" gives each channel unit variance."""
    g = torch.Generator().manual_seed(0)
    scales = torch.tensor([4.0, 2.0, 1.0, 0.25])
    seqs = [torch.randn(50, 4, 6, 7, generator=g) * scales[:, None, None] + 3.0 for _ in range(2)]
    mean, std, channel_std = latent_statistics(seqs, "global")
    assert torch.allclose(mean, torch.full((4,), 3.0), atol=0.1)
    assert torch.allclose(channel_std, scales, rtol=0.05)
    assert torch.allclose(std, torch.full((4,), float(scales.pow(2).mean().sqrt())), rtol=0.05)
    z = torch.cat(seqs).transpose(0, 1).flatten(1)
    assert abs(float(((z - mean[:, None]) / std[:, None]).pow(2).mean()) - 1.0) < 0.02  # unit variance overall
    assert torch.allclose(latent_statistics(seqs, "channel")[1], channel_std)
    with pytest.raises(InputError, match="normalise = 'pca'"):
        latent_statistics(seqs, "pca")


def test_latent_sampler_can_encode_a_capped_unmirrored_subset(tmp_path):
    """``[stage_codec] latent_frames`` / ``latent_flips``: by default every frame is encoded at every
    stride and phase, plain and mirrored; capped, one sequence per clip and stride of at most that many
    frames, and the cache made with other options is not reused."""
    tok = _model().tokenizer.eval()
    rng = np.random.default_rng(0)
    clips = {f"c{i}.mp4": rng.integers(0, 256, (40, 32, 48, 3), dtype=np.uint8) for i in range(2)}
    full = LatentSampler.build(tok, clips, (1, 2), "cpu", tmp_path / "latents.pt")
    assert len(full.seqs) == 2 * (1 + 2) * 2  # clips x (stride 1: one phase, stride 2: two) x (plain, mirrored)
    assert [len(s) for s in full.seqs[:2]] == [10, 10]
    capped = LatentSampler.build(tok, clips, (1, 2), "cpu", tmp_path / "latents.pt", max_frames=16, flips=False)
    assert len(capped.seqs) == 2 * 2 and all(len(s) == 4 for s in capped.seqs)
    assert torch.equal(capped.seqs[0], full.seqs[0][:4])  # the same encoder: the same latents, fewer of them
    again = LatentSampler.build(tok, clips, (1, 2), "cpu", tmp_path / "latents.pt", max_frames=16, flips=False)
    assert all(torch.equal(a, b) for a, b in zip(again.seqs, capped.seqs))  # from the cache
