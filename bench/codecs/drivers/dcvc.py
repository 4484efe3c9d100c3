"""Runs a DCVC model from a user's checkout, in its own process (``python -m bench.codecs.drivers.dcvc``).

It imports the checkout's own modules (``src.models``, ``src.utils.stream_helper``, its colour
helpers) and drives them the way the variant's ``test_video.py`` does with stream writing on:

* ``fm`` (DCVC-FM): intra model ``DMCI`` then ``DMC`` with its decoded-picture buffer, the
  feature-adaptation index cycling over a rate GOP of 8 and resetting every ``reset_interval``
  frames; parameter sets and frames written by ``write_sps``/the models' stream writers, one file.
* ``dc`` (DCVC-DC): ``IntraNoAR`` then ``DMC`` with ``frame_idx % 4``, the fine 64-step q scales
  (``q_in_ckpt`` off); each frame is what the authors' ``encode_i``/``encode_p`` write to a per-frame
  file, and the bitstream is those files back to back (each carries its own length), so its size is
  the sum the authors count.
* ``rt`` (DCVC-RT, CUDA): ``DMCI``/``DMC`` in fp16 with ``force_zero_thres`` 0.12, ``shift_qp`` per
  rate-GOP position, ``prepare_feature_adaptor_i`` every ``reset_interval`` frames, and the
  ``write_sps``/``write_ip`` stream.

Frames go in and out as raw YUV 4:2:0 (8 or 10 bit) and are given to the models as YCbCr 4:4:4 in
[0, 1] (chroma upsampled by the checkout's helpers), padded to a multiple of 16 by replication and
cropped back, as in the authors' scripts. ``decode`` reads the bitstream file alone.

``encode --reconstruction FILE`` also writes the frames the encoder made (FM and DC: the intra
model's ``x_hat`` and the inter model's reference frame, through the same conversion as the
decoder's output), which decoding the file must give again (:mod:`bench.codecs.agreement`).
DCVC-RT's inter encoder keeps features, not pixels, so it has no such frames.
"""
from __future__ import annotations

import struct
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from ...video.yuv import write_yuv
from . import common


def _nets(a, i_cls, p_cls, **kwargs):
    import torch

    get_state_dict = _checkout_module("src.utils.stream_helper", "src.utils.common").get_state_dict
    nets = []
    for cls, path in ((i_cls, a.model_i), (p_cls, a.model_p)):
        net = common.load_weights(cls(**kwargs), get_state_dict(str(path)), path)
        net = net.to(a.device).eval()
        nets.append(net)
    torch.use_deterministic_algorithms(True)
    return nets


def _updated_nets(a, i_cls, p_cls):
    """FM and DC: single-threaded entropy coder, one stream part, entropy tables built (``update``)."""
    nets = _nets(a, i_cls, p_cls, ec_thread=False, stream_part=1, inplace=True)
    for net in nets:
        net.update(force=True)
        if a.precision == "fp16":
            net.half()
    return nets


def _checkout_module(*names):
    import importlib

    for n in names:
        try:
            mod = importlib.import_module(n)
        except ImportError:
            continue
        if hasattr(mod, "get_state_dict"):
            return mod
    raise SystemExit(f"no get_state_dict in {' or '.join(names)} of the checkout")


def _input_tensor(a, y, uv, to444):
    import torch

    x = torch.from_numpy(to444(y, uv)).unsqueeze(0).to(a.device)
    return x.half() if a.precision == "fp16" else x


def _output_frame(a, rec, to420):
    y, uv = to420(rec.squeeze(0).float().cpu().numpy())
    return common.yuv_frame(y, uv, a.bit_depth)


def _unpadded(rec, pads):
    """A padded reconstruction clamped to [0, 1] and cropped back to the picture."""
    import torch.nn.functional as F

    return F.pad(rec.clamp(0, 1), tuple(-p for p in pads))


def _later(a, rec, pads, to420):
    """The output frame of ``rec``, made only when called (encoders yield these)."""
    return partial(_output_frame, a, _unpadded(rec, pads), to420)


# --- DCVC-FM -------------------------------------------------------------------------------------
def _fm_nets(a):
    from src.models.image_model import DMCI
    from src.models.video_model import DMC

    return _updated_nets(a, DMCI, DMC)


def fm_encode(a, out, clock: dict):
    """Encode the input into the stream ``out``; yields, per frame, the encoder's reconstruction
    (made when called). ``clock["start"]``: when the models are loaded and coding starts."""
    import torch
    import torch.nn.functional as F
    from src.transforms.functional import ycbcr420_to_444, ycbcr444_to_420
    from src.utils.stream_helper import SPSHelper, get_padding_size, write_sps

    i_net, p_net = _fm_nets(a)
    pads = get_padding_size(a.height, a.width, 16)
    helper, dpb = SPSHelper(), None
    clock["start"] = time.perf_counter()
    with torch.no_grad():
        for idx, (y, uv) in enumerate(common.yuv_planes(a)):
            x = F.pad(_input_tensor(a, y, uv, ycbcr420_to_444), pads, mode="replicate")
            intra = common.is_intra(idx, a.intra_period)
            fa_idx = 0
            if not intra:
                fa_idx = common.INDEX_MAP[idx % 8]
                if a.reset_interval > 0 and idx % a.reset_interval == 1:
                    dpb["ref_feature"] = None
                    fa_idx = 3
            sps = {"sps_id": -1, "height": a.height, "width": a.width, "qp": a.q_index, "fa_idx": fa_idx}
            sps_id, new = helper.get_sps_id(sps)
            sps["sps_id"] = sps_id
            if new:
                write_sps(out, sps)
            if intra:
                res = i_net.encode(x, a.q_index, sps_id, out)
                dpb = {"ref_frame": res["x_hat"], "ref_feature": None, "ref_mv_feature": None, "ref_y": None,
                       "ref_mv_y": None}
            else:
                dpb = p_net.encode(x, dpb, a.q_index, fa_idx, sps_id, out)["dpb"]
            yield _later(a, dpb["ref_frame"], pads, ycbcr444_to_420)


def fm_frames(a):
    import torch
    from src.transforms.functional import ycbcr444_to_420
    from src.utils.stream_helper import (
        NalType,
        SPSHelper,
        get_padding_size,
        read_header,
        read_ip_remaining,
        read_sps_remaining,
    )

    i_net, p_net = _fm_nets(a)
    helper = SPSHelper()
    done, pending, dpb, kind, stream = 0, [], None, None, None
    with open(a.bitstream, "rb") as f, torch.no_grad():
        while done < a.frames:
            if not pending:
                header = read_header(f)
                if header["nal_type"] == NalType.NAL_SPS:
                    helper.add_sps_by_id(read_sps_remaining(f, header["sps_id"]))
                    continue
                pending = list(header["sps_ids"] if header["nal_type"] == NalType.NAL_Ps else [header["sps_id"]])
                stream, kind = read_ip_remaining(f), header["nal_type"]
            else:
                stream = None
            sps = helper.get_sps_by_id(pending.pop(0))
            if kind == NalType.NAL_I:
                rec = i_net.decompress(stream, sps)["x_hat"]
                dpb = {"ref_frame": rec, "ref_feature": None, "ref_mv_feature": None, "ref_y": None,
                       "ref_mv_y": None}
            else:
                if sps["fa_idx"] == 3:
                    dpb["ref_feature"] = None
                dpb = p_net.decompress(stream, dpb, sps)["dpb"]
                rec = dpb["ref_frame"]
            yield _output_frame(a, _unpadded(rec, get_padding_size(sps["height"], sps["width"], 16)),
                                ycbcr444_to_420)
            done += 1


# --- DCVC-DC -------------------------------------------------------------------------------------
I_HEADER, P_HEADER = 13, 6  # bytes before the stream in encode_i / encode_p files; the length is the last 4


def _dc_nets(a):
    from src.models.image_model import IntraNoAR
    from src.models.video_model import DMC

    return _updated_nets(a, IntraNoAR, DMC)


def dc_encode(a, out, clock: dict):
    """As :func:`fm_encode`, for DCVC-DC."""
    import torch
    import torch.nn.functional as F
    from src.transforms.functional import ycbcr420_to_444, ycbcr444_to_420
    from src.utils.stream_helper import encode_i, encode_p, get_padding_size

    i_net, p_net = _dc_nets(a)
    pads = get_padding_size(a.height, a.width, 16)
    dpb = None
    clock["start"] = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        part = Path(tmp) / "frame.bin"
        for idx, (y, uv) in enumerate(common.yuv_planes(a)):
            x = F.pad(_input_tensor(a, y, uv, lambda y_, uv_: ycbcr420_to_444(y_, uv_, order=0)), pads,
                      mode="replicate")
            if common.is_intra(idx, a.intra_period):
                res = i_net.compress(x, False, a.q_index)
                encode_i(a.height, a.width, False, a.q_index, res["bit_stream"], str(part))
                dpb = {"ref_frame": res["x_hat"], "ref_feature": None, "ref_mv_feature": None, "ref_y": None,
                       "ref_mv_y": None}
            else:
                res = p_net.compress(x, dpb, False, a.q_index, idx % 4)
                encode_p(res["bit_stream"], False, a.q_index, idx % 4, str(part))
                dpb = res["dpb"]
            out.write(part.read_bytes())
            yield _later(a, dpb["ref_frame"], pads, ycbcr444_to_420)


def dc_frames(a):
    import torch
    from src.transforms.functional import ycbcr444_to_420
    from src.utils.stream_helper import decode_i, decode_p, get_padding_size

    i_net, p_net = _dc_nets(a)
    pads = get_padding_size(a.height, a.width, 16)
    dpb = None
    with tempfile.TemporaryDirectory() as tmp, open(a.bitstream, "rb") as f, torch.no_grad():
        part = Path(tmp) / "frame.bin"
        for idx in range(a.frames):
            intra = common.is_intra(idx, a.intra_period)
            head = f.read(I_HEADER if intra else P_HEADER)
            if len(head) < (I_HEADER if intra else P_HEADER):
                raise SystemExit(f"{a.bitstream}: ends before frame {idx}")
            (length,) = struct.unpack(">I", head[-4:])
            part.write_bytes(head + f.read(length))
            if intra:
                height, width, q_in_ckpt, q_index, stream = decode_i(str(part))
                rec = i_net.decompress(stream, height, width, q_in_ckpt, q_index)["x_hat"]
                dpb = {"ref_frame": rec, "ref_feature": None, "ref_mv_feature": None, "ref_y": None,
                       "ref_mv_y": None}
            else:
                q_in_ckpt, q_index, frame_idx, stream = decode_p(str(part))
                dpb = p_net.decompress(dpb, stream, a.height, a.width, q_in_ckpt, q_index, frame_idx)["dpb"]
                rec = dpb["ref_frame"]
            yield _output_frame(a, _unpadded(rec, pads), ycbcr444_to_420)


# --- DCVC-RT -------------------------------------------------------------------------------------
def _rt_nets(a):
    from src.models.image_model import DMCI
    from src.models.video_model import DMC

    nets = _nets(a, DMCI, DMC)
    for net in nets:
        net.update(a.force_zero_thres)
        if a.precision == "fp16":
            net.half()
    two = a.width * a.height > 1280 * 720
    for net in nets:
        net.set_use_two_entropy_coders(two)
    return nets, two


def rt_encode(a, out, clock: dict):
    """As :func:`fm_encode`, for DCVC-RT, but it yields None: its inter encoder keeps features, not
    pixels."""
    import torch
    from src.layers.cuda_inference import replicate_pad
    from src.models.image_model import DMCI
    from src.utils.stream_helper import SPSHelper, write_ip, write_sps
    from src.utils.transforms import ycbcr420_to_444_np

    (i_net, p_net), two = _rt_nets(a)
    pr, pb = DMCI.get_padding_size(a.height, a.width, 16)
    helper, last_qp = SPSHelper(), 0
    p_net.set_curr_poc(0)
    clock["start"] = time.perf_counter()
    with torch.no_grad():
        for idx, (y, uv) in enumerate(common.yuv_planes(a)):
            x = replicate_pad(_input_tensor(a, y, uv, ycbcr420_to_444_np), pb, pr)
            intra = common.is_intra(idx, a.intra_period)
            use_ada_i = 0
            if intra:
                qp = a.q_index
                enc = i_net.compress(x, qp)
                p_net.clear_dpb()
                p_net.add_ref_frame(None, enc["x_hat"])
            else:
                fa_idx = common.INDEX_MAP[idx % 8]
                if a.reset_interval > 0 and idx % a.reset_interval == 1:
                    use_ada_i = 1
                    p_net.prepare_feature_adaptor_i(last_qp)
                qp = p_net.shift_qp(a.q_index, fa_idx)
                enc = p_net.compress(x, qp)
                last_qp = qp
            sps = {"sps_id": -1, "height": a.height, "width": a.width, "ec_part": 1 if two else 0,
                   "use_ada_i": use_ada_i}
            sps_id, new = helper.get_sps_id(sps)
            sps["sps_id"] = sps_id
            if new:
                write_sps(out, sps)
            write_ip(out, intra, sps_id, qp, enc["bit_stream"])
            yield None
    if str(a.device).startswith("cuda"):
        torch.cuda.synchronize()


def rt_frames(a):
    import torch
    from src.utils.stream_helper import NalType, SPSHelper, read_header, read_ip_remaining, read_sps_remaining
    from src.utils.transforms import yuv_444_to_420

    (i_net, p_net), _ = _rt_nets(a)
    helper = SPSHelper()
    p_net.set_curr_poc(0)

    def to420(rec):
        y, uv = yuv_444_to_420(torch.from_numpy(rec).unsqueeze(0))
        return y.squeeze(0).numpy(), uv.squeeze(0).numpy()

    with open(a.bitstream, "rb") as f, torch.no_grad():
        for _ in range(a.frames):
            header = read_header(f)
            while header["nal_type"] == NalType.NAL_SPS:
                helper.add_sps_by_id(read_sps_remaining(f, header["sps_id"]))
                header = read_header(f)
            sps = helper.get_sps_by_id(header["sps_id"])
            qp, stream = read_ip_remaining(f)
            if header["nal_type"] == NalType.NAL_I:
                dec = i_net.decompress(stream, sps, qp)
                p_net.clear_dpb()
                p_net.add_ref_frame(None, dec["x_hat"])
            else:
                if sps["use_ada_i"]:
                    p_net.reset_ref_feature()
                dec = p_net.decompress(stream, sps, qp)
            yield _output_frame(a, dec["x_hat"][:, :, :a.height, :a.width].clamp(0, 1), to420)


# --- entry point ---------------------------------------------------------------------------------
VARIANTS = {"fm": (fm_encode, fm_frames), "dc": (dc_encode, dc_frames), "rt": (rt_encode, rt_frames)}


def encode(a) -> dict:
    common.use_checkout(a)
    if a.reconstruction and a.variant == "rt":
        raise SystemExit("--reconstruction: DCVC-RT's inter encoder makes no frames to write")
    clock: dict = {}
    with open(a.bitstream, "wb") as out:
        frames = VARIANTS[a.variant][0](a, out, clock)
        if a.reconstruction:
            write_yuv(a.reconstruction, (make() for make in frames))
        else:
            for _ in frames:
                pass
    return {"encode_s": time.perf_counter() - clock["start"]}


def decode(a) -> dict:
    common.use_checkout(a)
    t0 = time.perf_counter()
    n = write_yuv(a.output, VARIANTS[a.variant][1](a))
    return {"frames": n, "decode_s": time.perf_counter() - t0}


def build_parser():
    p = common.parser("bench.codecs.drivers.dcvc")
    p.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    p.add_argument("--reset-interval", type=int, default=None,
                   help="feature reset period (default: 32 for fm, 64 for rt, as in the authors' commands)")
    p.add_argument("--force-zero-thres", type=float, default=0.12, help="rt only, as in the authors' command")
    p.add_argument("--reconstruction", type=Path,
                   help="encode: also write the encoder's own reconstruction here (raw YUV; fm and dc)")
    return p


def main(argv=None) -> int:
    p = build_parser()

    def with_defaults(action):
        def run(a):
            if a.reset_interval is None:
                a.reset_interval = 64 if a.variant == "rt" else 32
            return action(a)
        return run

    return common.main(p, {"encode": with_defaults(encode), "decode": with_defaults(decode)}, argv)


if __name__ == "__main__":
    sys.exit(main())
