"""GoL's optional linear lapped path of the tokenizer (``[model] linear_path``): it builds, encodes and
decodes the right shapes, starts as exactly the linear transform, its PCA start reconstructs, and with
the option off (the default) a model and the shipped checkpoint are what they were."""
import numpy as np
import torch

from bench.gol import SHIPPED_WEIGHTS
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
