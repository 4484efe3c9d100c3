"""A stream of units: type (1 byte), sps id (1 byte), payload length (4 bytes), payload."""
import enum
import json
import struct

import torch

_PENDING = {}  # open stream -> length of the unit whose header was read last


class NalType(enum.IntEnum):
    NAL_SPS = 0
    NAL_I = 1
    NAL_P = 2
    NAL_Ps = 3


def get_state_dict(path):
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def get_padding_size(height, width, p=16):
    new_h, new_w = -(-height // p) * p, -(-width // p) * p
    return 0, new_w - width, 0, new_h - height


def padded_size(sps):
    _, right, _, bottom = get_padding_size(sps["height"], sps["width"], 16)
    return sps["height"] + bottom, sps["width"] + right


class SPSHelper:
    def __init__(self):
        self.by_id, self.ids = {}, {}

    def get_sps_id(self, sps):
        key = json.dumps({k: v for k, v in sps.items() if k != "sps_id"}, sort_keys=True)
        if key in self.ids:
            return self.ids[key], False
        self.ids[key] = len(self.ids)
        return self.ids[key], True

    def add_sps_by_id(self, sps):
        self.by_id[sps["sps_id"]] = sps

    def get_sps_by_id(self, sps_id):
        return self.by_id[sps_id]


def _unit(out, nal_type, sps_id, payload):
    out.write(struct.pack(">BBI", int(nal_type), sps_id, len(payload)) + payload)


def write_sps(out, sps):
    _unit(out, NalType.NAL_SPS, sps["sps_id"], json.dumps(sps).encode())


def write_ip(out, nal_type, sps_id, payload):
    _unit(out, nal_type, sps_id, payload)


def read_header(f):
    nal_type, sps_id, length = struct.unpack(">BBI", f.read(6))
    _PENDING[id(f)] = length
    return {"nal_type": NalType(nal_type), "sps_id": sps_id}


def read_sps_remaining(f, sps_id):
    return json.loads(f.read(_PENDING[id(f)]))


def read_ip_remaining(f):
    return f.read(_PENDING[id(f)])
