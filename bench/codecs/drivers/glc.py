"""Runs GLC-Video from a user's checkout, in its own process (``python -m bench.codecs.drivers.glc``).

It imports the checkout's ``GLC_Image`` (intra) and ``GLC_Video`` (inter) and drives their ``test``
methods exactly as the authors' ``test_video.py`` does: BT.709 RGB frames in [-1, 1], padded to a
multiple of 64 by replication, the intra model's q scales interpolated to 64 steps, the inter model
with its decoded-picture buffer, feature-adaptation index over a rate GOP of 8 and ``ref_y`` reset
every ``reset_interval`` frames.

The authors' code writes no bitstream: its ``bit`` is estimated from the entropy model's likelihoods
(and the codebook size for the hyper-latent indices). ``encode`` therefore writes (a) a JSON record of
those estimated bits per frame, which stands in for the bitstream and is labelled as such, and (b) the
reconstruction, converted to YUV 4:2:0 with the harness's BT.709 conversion. ``decode`` is not a real
decoder: it runs the same deterministic pass again and writes the reconstruction.
"""
from __future__ import annotations

import json
import sys
import time

from ...video.yuv import write_yuv
from . import common


def _nets(a):
    import torch
    from src.models.image_model import GLC_Image
    from src.models.video_model import GLC_Video
    from src.utils.test_utils import get_state_dict

    i_net = common.load_weights(GLC_Image(), get_state_dict(str(a.model_i)), a.model_i)
    i_net.interpolate_q()
    p_net = common.load_weights(GLC_Video(hyper_K=a.hyper_k), get_state_dict(str(a.model_p)), a.model_p,
                                   strict=False)
    nets = []
    for net in (i_net, p_net):
        net = net.to(a.device).eval()
        if a.precision == "fp16":
            net.half()
        nets.append(net)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return nets


def run(a):
    """Yields (estimated bits, reconstructed frame) per frame, as the authors' test loop computes them."""
    import torch
    import torch.nn.functional as F
    from src.models.image_model import GLC_Image

    i_net, p_net = _nets(a)
    pl, pr, pt, pb = GLC_Image.get_padding_size(a.height, a.width, 64)
    dpb = None
    with torch.no_grad():
        for idx, rgb in enumerate(common.rgb_frames(a)):
            x = torch.from_numpy(rgb).unsqueeze(0).to(a.device)
            if a.precision == "fp16":
                x = x.half()
            x = F.pad(x, (pl, pr, pt, pb), mode="replicate") * 2.0 - 1.0
            if common.is_intra(idx, a.intra_period):
                enc = i_net.test(x, a.q_index)
                dpb = {"ref_frame": enc["x_hat"], "ref_latent": enc["ref_latent"], "ref_y": None}
                rec, bits = enc["x_hat"], float(enc["bit"])
            else:
                if a.reset_interval > 0 and idx % a.reset_interval == 1:
                    dpb["ref_y"] = None
                enc = p_net.test(x, dpb, a.q_index, fa_idx=common.INDEX_MAP[idx % a.rate_gop_size])
                dpb = enc["dpb"]
                rec, bits = dpb["ref_frame"], float(enc["bit"])
            rec = (rec.clamp(-1, 1) + 1.0) / 2.0
            rec = F.pad(rec, (-pl, -pr, -pt, -pb)).squeeze(0).float().cpu().numpy()
            yield bits, common.rgb_frame(rec, a.bit_depth)


def encode(a) -> dict:
    common.use_checkout(a)
    t0 = time.perf_counter()
    bits = []

    def frames():
        for b, fr in run(a):
            bits.append(b)
            yield fr

    write_yuv(a.output, frames())
    total = sum(bits)
    record = {"bits_source": "estimated", "codec": "GLC-Video (authors' test path)", "q_index": a.q_index,
              "intra_period": a.intra_period, "frames": len(bits), "bits_per_frame": bits,
              "estimated_bits": total, "note": "no bitstream: bits estimated from the model's likelihoods"}
    a.bitstream.write_text(json.dumps(record, indent=1))
    return {"encode_s": time.perf_counter() - t0, "estimated_bits": total}


def decode(a) -> dict:
    common.use_checkout(a)
    t0 = time.perf_counter()
    n = write_yuv(a.output, (fr for _, fr in run(a)))
    return {"frames": n, "decode_s": time.perf_counter() - t0}


def main(argv=None) -> int:
    p = common.parser("bench.codecs.drivers.glc")
    p.add_argument("--reset-interval", type=int, default=32)
    p.add_argument("--rate-gop-size", type=int, default=8, choices=[4, 8])
    p.add_argument("--hyper-k", type=int, default=16)
    return common.main(p, {"encode": encode, "decode": decode}, argv)


if __name__ == "__main__":
    sys.exit(main())
