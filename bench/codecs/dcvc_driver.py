"""Runs a DCVC model from a user's checkout, in its own process (``python -m bench.codecs.dcvc_driver``).

It imports the checkout's own modules (``src.models``, ``src.utils.stream_helper``,
``src.transforms.functional``) and drives them the way the authors' ``test_video.py`` does with
``--write_stream 1``: the intra model (``DMCI``) for the first frame (and every ``intra_period``-th),
the inter model (``DMC``) for the others with its decoded-picture buffer, the feature-adaptation
index cycling over a rate GOP of 8 and resetting every ``reset_interval`` frames, parameter sets
and frames written by their stream helpers. ``decode`` reads that file alone and writes the frames.

Frames are exchanged as raw YUV 4:2:0 (8 or 10 bit) and given to the models as YCbCr 4:4:4 in
[0, 1] (chroma upsampled by the checkout's ``ycbcr420_to_444``), padded to a multiple of 16 with
replication and cropped back, as in the authors' script.

Prints one JSON line with timings (encode) or the frame count (decode); any error becomes one line
on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

INDEX_MAP = (0, 1, 0, 2, 0, 2, 0, 2)  # feature-adaptation index per position in a rate GOP of 8


def _load(a):
    import torch

    sys.path.insert(0, str(a.checkout))
    from src.models.image_model import DMCI  # noqa: E402  (the checkout's own classes)
    from src.models.video_model import DMC
    from src.utils.stream_helper import get_state_dict

    if not str(a.device).startswith("cuda"):
        # DMC.encode/decompress time themselves with torch.cuda.synchronize(), which fails on a machine
        # without CUDA; on CPU there is nothing to synchronise
        torch.cuda.synchronize = lambda *args, **kwargs: None
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    nets = []
    for cls, path in ((DMCI, a.model_i), (DMC, a.model_p)):
        net = cls(ec_thread=False, stream_part=1, inplace=True)
        try:
            net.load_state_dict(get_state_dict(path))
        except (RuntimeError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise SystemExit(f"dcvc: checkpoint {path} does not fit {cls.__name__}: {first[:300]}") from None
        net = net.to(a.device).eval()
        net.update(force=True)
        if a.precision == "fp16":
            net.half()
        nets.append(net)
    return nets


def _read_frames(path: Path, w: int, h: int, depth: int, n: int):
    dtype = np.uint8 if depth == 8 else np.uint16
    peak = float((1 << depth) - 1)
    ysz, csz = w * h, (w // 2) * (h // 2)
    data = np.fromfile(path, dtype=dtype)
    per = ysz + 2 * csz
    if data.size < per * n:
        raise SystemExit(f"dcvc: {path}: {data.size // per} frames, expected {n}")
    for i in range(n):
        f = data[i * per:(i + 1) * per].astype(np.float32) / peak
        yield f[:ysz].reshape(1, h, w), f[ysz:].reshape(2, h // 2, w // 2)


def encode(a) -> dict:
    import torch
    import torch.nn.functional as F

    i_net, p_net = _load(a)
    from src.transforms.functional import ycbcr420_to_444
    from src.utils.stream_helper import SPSHelper, get_padding_size, write_sps

    w, h = a.width, a.height
    pl, pr, pt, pb = get_padding_size(h, w, 16)
    helper = SPSHelper()
    t0 = time.perf_counter()
    dpb = None
    with open(a.bitstream, "wb") as out, torch.no_grad():
        for idx, (y, uv) in enumerate(_read_frames(a.input, w, h, a.bit_depth, a.frames)):
            x = torch.from_numpy(ycbcr420_to_444(y, uv)).unsqueeze(0).to(a.device)
            if a.precision == "fp16":
                x = x.half()
            x = F.pad(x, (pl, pr, pt, pb), mode="replicate")
            intra = idx == 0 or (a.intra_period > 0 and idx % a.intra_period == 0)
            fa_idx = 0
            if not intra:
                fa_idx = INDEX_MAP[idx % 8]
                if a.reset_interval > 0 and idx % a.reset_interval == 1:
                    dpb["ref_feature"] = None
                    fa_idx = 3
            sps = {"sps_id": -1, "height": h, "width": w, "qp": a.q_index, "fa_idx": fa_idx}
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
    return {"encode_s": time.perf_counter() - t0}


def decode(a) -> dict:
    import torch
    import torch.nn.functional as F

    i_net, p_net = _load(a)
    from src.transforms.functional import ycbcr444_to_420
    from src.utils.stream_helper import (NalType, SPSHelper, get_padding_size, read_header, read_ip_remaining,
                                         read_sps_remaining)

    helper = SPSHelper()
    peak = float((1 << a.bit_depth) - 1)
    dtype = np.uint8 if a.bit_depth == 8 else np.uint16
    done, pending, dpb = 0, [], None
    t0 = time.perf_counter()
    with open(a.bitstream, "rb") as f, open(a.output, "wb") as out, torch.no_grad():
        while done < a.frames:
            if not pending:
                header = read_header(f)
                if header["nal_type"] == NalType.NAL_SPS:
                    helper.add_sps_by_id(read_sps_remaining(f, header["sps_id"]))
                    continue
                ids = header["sps_ids"] if header["nal_type"] == NalType.NAL_Ps else [header["sps_id"]]
                pending = list(ids)
                stream = read_ip_remaining(f)
                kind = header["nal_type"]
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
            pl, pr, pt, pb = get_padding_size(sps["height"], sps["width"], 16)
            rec = F.pad(rec.clamp(0, 1), (-pl, -pr, -pt, -pb)).squeeze(0).float().cpu().numpy()
            y, uv = ycbcr444_to_420(rec)
            for plane in (y, uv):
                out.write(np.clip(np.round(plane * peak), 0, peak).astype(dtype).tobytes())
            done += 1
    return {"frames": done, "decode_s": time.perf_counter() - t0}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench.codecs.dcvc_driver")
    p.add_argument("action", choices=["encode", "decode"])
    p.add_argument("--checkout", type=Path, required=True)
    p.add_argument("--model-i", required=True)
    p.add_argument("--model-p", required=True)
    p.add_argument("--bitstream", type=Path, required=True)
    p.add_argument("--input", type=Path)
    p.add_argument("--output", type=Path)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    p.add_argument("--frames", type=int, required=True)
    p.add_argument("--bit-depth", type=int, default=8)
    p.add_argument("--q-index", type=int, default=0)
    p.add_argument("--intra-period", type=int, default=-1)
    p.add_argument("--reset-interval", type=int, default=32)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", choices=["fp32", "fp16"], default="fp32")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    try:
        result = encode(a) if a.action == "encode" else decode(a)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        raise
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
