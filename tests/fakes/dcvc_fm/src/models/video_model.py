from ..utils.stream_helper import NalType, padded_size, write_ip
from .common_fake import FakeModel, code, decode, entropy_code


def _dpb(frame):
    return {"ref_frame": frame, "ref_feature": None, "ref_mv_feature": None, "ref_y": None, "ref_mv_y": None}


class DMC(FakeModel):
    def encode(self, x, dpb, qp, fa_idx, sps_id, out):
        payload, res = code(x - dpb["ref_frame"], qp)
        write_ip(out, NalType.NAL_P, sps_id, entropy_code(payload))
        return {"dpb": _dpb((dpb["ref_frame"] + res).clamp(0, 1))}

    def decompress(self, stream, dpb, sps):
        res = decode(stream, sps["qp"], *padded_size(sps))
        return {"dpb": _dpb((dpb["ref_frame"] + res).clamp(0, 1))}
