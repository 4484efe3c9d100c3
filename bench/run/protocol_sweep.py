"""``bench run --protocol``: a protocol's test conditions as sweep configurations.

The protocol (:mod:`bench.protocols`) fills every setting the command line did not give; what the
command line gives wins, and each such override is named in the run's stored configuration (and so
in the report). A protocol over several suites (``suites = [...]``) is one sweep per suite.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..protocols import Protocol
from ..suites.sequences import parse_size
from .sweep import SweepConfig

# `bench run` option (argparse name) -> SweepConfig field
RUN_OPTIONS = {"suite": "suite", "sequences": "sequences", "codecs": "codecs", "codec_opt": "codec_options",
               "bpp": "targets", "metrics": "metrics", "frames": "frames", "fps": "fps", "fps_step": "fps_step",
               "size": "size", "resize": "resize"}
# SweepConfig field <- protocol [run] key
FIELDS = {"suite": "suite", "sequences": "sequences", "codecs": "codecs", "codec_options": "codec_options",
          "targets": "targets", "metrics": "metrics", "frames": "frames", "fps": "fps", "fps_step": "fps_step",
          "size": "size", "resize": "resize"}
FLAGS = {"suite": "--suite", "sequences": "--sequences", "codecs": "--codecs", "codec_options": "--codec-opt",
         "targets": "--bpp", "metrics": "--metrics", "frames": "--frames", "fps": "--fps", "fps_step": "--fps-step",
         "size": "--size", "resize": "--resize"}


def _value(field: str, v):
    if field == "size":
        return parse_size(v)
    if field == "fps":
        return Fraction(v).limit_denominator(1001)
    if field == "targets":
        return sorted(set(float(x) for x in v))
    return v


def protocol_sweeps(protocol: Protocol, base: SweepConfig, explicit: set[str]) -> list[SweepConfig]:
    """The sweeps that run ``protocol``: ``base`` (the command line's configuration) with every
    field not in ``explicit`` taken from the protocol."""
    run = protocol.run
    settings, overrides = {}, []
    for field, key in FIELDS.items():
        given = field in explicit
        if key == "suite":
            ours = protocol.suites
        else:
            ours = run.get(key)
        if ours is None or (key == "suite" and not ours):
            continue
        if given:
            overrides.append(f"{FLAGS[field]} given on the command line (the protocol's {key}: {_show(ours)})")
        elif key == "codec_options":
            settings[field] = {c: {**o, **base.codec_options.get(c, {})} for c, o in ours.items()}
            settings[field].update({c: o for c, o in base.codec_options.items() if c not in ours})
        elif key != "suite":
            settings[field] = _value(field, ours)
    if "fps_step" in explicit and "fps" not in explicit:
        settings["fps"] = None  # the command line's step replaces the protocol's rate
    if "fps" in explicit and "fps_step" not in explicit:
        settings["fps_step"] = None
    suites = [base.suite] if "suite" in explicit or not protocol.suites else protocol.suites
    stored = {**protocol.describe(), "overrides": overrides}
    return [replace(base, **settings, suite=s, protocol=stored) for s in suites]


def _show(v) -> str:
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{c}: {', '.join(f'{k}={x}' for k, x in o.items())}" for c, o in v.items())
    return str(v)
