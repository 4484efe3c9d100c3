"""The fake codec: every ``step``-th pixel of each plane, quantised to 8 bits; the decoder repeats them."""
import os

import numpy as np
import torch
from torch import nn


def step_of(qp: int) -> int:
    return 1 + (63 - int(qp)) // 8


def code(values: torch.Tensor, qp: int) -> tuple[bytes, torch.Tensor]:
    """(payload, reconstruction) of ``values`` (1, 3, H, W) in [-1, 1]."""
    s = step_of(qp)
    q = torch.round((values[:, :, ::s, ::s].clamp(-1, 1) + 1) * 127.5).to(torch.uint8)
    return q.numpy().tobytes(), expand(q, s, values.shape[-2:])


def decode(payload: bytes, qp: int, height: int, width: int) -> torch.Tensor:
    s = step_of(qp)
    h, w = -(-height // s), -(-width // s)
    q = torch.from_numpy(np.frombuffer(payload, dtype=np.uint8).reshape(1, 3, h, w).copy())
    return expand(q, s, (height, width))


def expand(q: torch.Tensor, s: int, size) -> torch.Tensor:
    v = q.float() / 127.5 - 1
    return v.repeat_interleave(s, -2).repeat_interleave(s, -1)[:, :, :size[0], :size[1]]


def entropy_code(payload: bytes) -> bytes:
    """The 'entropy coder': the payload as it is, or, built wrongly, the same length of other bytes."""
    if os.environ.get("FAKE_DCVC_BROKEN_CODER"):
        return bytes(b ^ 0x21 for b in payload)
    return payload


class FakeModel(nn.Module):
    def __init__(self, ec_thread=False, stream_part=1, inplace=True):
        super().__init__()

    def update(self, force=False):
        pass
