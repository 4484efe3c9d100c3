from ..utils.stream_helper import NalType, padded_size, write_ip
from .common_fake import FakeModel, code, decode, entropy_code


class DMCI(FakeModel):
    def encode(self, x, qp, sps_id, out):
        payload, rec = code(x * 2 - 1, qp)
        write_ip(out, NalType.NAL_I, sps_id, entropy_code(payload))
        return {"x_hat": (rec + 1) / 2}

    def decompress(self, stream, sps):
        return {"x_hat": (decode(stream, sps["qp"], *padded_size(sps)) + 1) / 2}
