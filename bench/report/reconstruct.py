"""Re-decoding the results a report shows: :mod:`bench.run.redecode` (also used by a sweep that adds
a metric to stored results), under the report's name."""
from __future__ import annotations

from ..run.redecode import MATCH_DB, NotReconstructible, Reconstruction, bitstream_file, prepared_source, redecode

__all__ = ["MATCH_DB", "NotReconstructible", "Reconstruction", "bitstream_file", "prepared_source", "redecode"]
