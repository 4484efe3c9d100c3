"""The one interface every codec adapter implements.

An adapter says what it is (name, version, description), which single knob the bpp solver sweeps
(:class:`Knob`), and does two things: ``encode`` a prepared sequence at a knob value into real
bitstream file(s) on disk, and ``decode`` those files back into a raw YUV file of frames. bits are
always the size of the files written (``bits_source = "file"``); an adapter that can only estimate
bits must say so with ``bits_source = "estimated"``.

An adapter whose encoder knows the frames the decoder must make (a learned codec's encoder computes
its own reconstruction) says so with :meth:`Codec.encoder_reconstruction`; the runner then checks
every decode against it (:mod:`bench.codecs.agreement`), so a broken entropy coder build that writes
streams of the right length and the wrong content gives a ``failed`` row, not a plausible result.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..errors import InputError
from ..hashing import identity_hash
from ..suites.sequences import PreparedSequence
from ..video import VideoFormat


@dataclass(frozen=True)
class Knob:
    """The one parameter the solver sweeps.

    ``more_bits`` is +1 if raising the knob raises the rate, -1 if it lowers it (a QP).
    ``log_bpp_slope`` is the expected d ln(bpp)/d knob, the solver's first step before it has two
    probes (QP codecs: about -ln(2)/6, the rate halves every 6 QP). ``start`` is the first probe when
    nothing is known.
    """

    name: str
    lo: float
    hi: float
    start: float
    integer: bool = True
    more_bits: int = -1
    log_bpp_slope: float = -0.1155

    def clamp(self, x: float) -> float:
        x = min(max(x, self.lo), self.hi)
        return float(round(x)) if self.integer else x


@dataclass
class Bitstream:
    """What ``encode`` wrote: the files, the exact command line, timings and the encoder's log."""

    files: list[Path]
    knob: float
    cmd: list[str]
    encode_s: float
    log: str = ""
    meta: dict = field(default_factory=dict)
    bits_source: str = "file"
    estimated_bits: int | None = None  # only with bits_source "estimated"
    # what the encoder knows of the decoder's output (a file of the adapter's own, beside the
    # bitstream and never counted in its bits); see Codec.encoder_reconstruction
    encoder_side: Path | None = None

    @property
    def bits(self) -> int:
        if self.bits_source == "estimated":
            return int(self.estimated_bits)
        return sum(p.stat().st_size for p in self.files) * 8


@dataclass
class Decoded:
    """What ``decode`` wrote: a raw YUV 4:2:0 file in ``format`` (its bit depth may differ from the
    source's; the harness requantises before measuring)."""

    path: Path
    format: VideoFormat
    cmd: list[str]
    decode_s: float


class Codec(ABC):
    """Base class of codec adapters. Subclasses set ``name``, ``knob``, ``option_defaults`` and
    implement ``version``, ``check_available``, ``encode`` and ``decode``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    knob: ClassVar[Knob]
    option_defaults: ClassVar[dict] = {}
    bits_source: ClassVar[str] = "file"

    def __init__(self, **options):
        unknown = set(options) - set(self.option_defaults)
        if unknown:
            raise InputError(f"codec {self.name!r} has no option {', '.join(sorted(unknown))} "
                             f"(options: {', '.join(sorted(self.option_defaults)) or 'none'})")
        self.options = {**self.option_defaults}
        for k, v in options.items():
            default = self.option_defaults[k]
            try:
                self.options[k] = type(default)(v) if default is not None and not isinstance(v, type(default)) else v
            except (TypeError, ValueError):
                raise InputError(f"codec {self.name!r}: option {k}={v!r} is not a {type(default).__name__}") from None

    # --- what the codec is -------------------------------------------------------------------
    @abstractmethod
    def version(self) -> str:
        """Version string of the codec as run (binary or library version)."""

    @abstractmethod
    def check_available(self) -> None:
        """Raise :class:`bench.errors.CodecUnavailable` with one clear line if it cannot run here."""

    def knob_range(self, seq: PreparedSequence) -> tuple[float, float]:
        return self.knob.lo, self.knob.hi

    def config(self) -> dict:
        """Everything that determines this codec's output: part of every result's key."""
        return {"codec": self.name, "version": self.version(), "options": dict(sorted(self.options.items())),
                "knob": self.knob.name}

    def config_key(self) -> str:
        """The short hash that names :meth:`config` (probe cache, result rows)."""
        return identity_hash(self.config())

    # --- what it does ------------------------------------------------------------------------
    @abstractmethod
    def encode(self, seq: PreparedSequence, knob: float, workdir: Path, deadline: float | None = None) -> Bitstream:
        ...

    @abstractmethod
    def decode(self, bitstream: Bitstream, seq: PreparedSequence, workdir: Path,
               deadline: float | None = None) -> Decoded:
        ...

    def encoder_reconstruction(self, bitstream: Bitstream, seq: PreparedSequence, workdir: Path,
                               deadline: float | None = None) -> Decoded | None:
        """The frames the encoder made for ``bitstream``, which decoding the file alone must give
        again; None (the default) when the encoder does not know them."""
        return None

    def __repr__(self) -> str:
        return f"<codec {self.name} {self.options}>"
