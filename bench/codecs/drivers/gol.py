"""GoL's own driver (``python -m bench.gol.driver``) with its entropy coder watched, so that what the
decoder makes from the file can be checked against what the encoder meant::

    python -m bench.codecs.drivers.gol --record SYMBOLS encode --weights W --bitstream B ...
    python -m bench.codecs.drivers.gol --replay SYMBOLS decode --weights W --bitstream B --output R ...

``--record`` runs GoL's encode and saves every array of symbols its encoder hands the rANS coder
(``constriction``'s stack ``AnsCoder``) for the stream it takes last, in order. ``--replay`` runs
GoL's decode with a coder that hands back those symbols instead of reading them from the stream: a
decoder behind a perfect entropy coder, which makes exactly the encoder's reconstruction (the
I-latents it coded, the P-latents generated from them with the seed in the header). Decoding the
file itself must give the same frames; when it does not, the coder wrote or read something other
than it was given.

The GoL driver and model are used as they are, through their command line; only the coder class
is swapped, in this process.
"""
from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

import numpy as np


class RecordingCoder:
    """``AnsCoder`` that keeps a copy of every symbol array it encodes; when its stream is taken
    (``get_compressed``), the log becomes that stream's symbols: an encoder that codes several
    candidate files and writes the last (:mod:`bench.gol.mode_decision`) is recorded by the last."""

    def __init__(self, real, log: list, *args):
        self._real, self._log, self._mine = real(*args), log, []

    def encode_reverse(self, symbols, *args):
        self._mine.append(np.array(symbols, dtype=np.int32, copy=True))
        return self._real.encode_reverse(symbols, *args)

    def get_compressed(self, *args):
        self._log[:] = self._mine
        return self._real.get_compressed(*args)

    def __getattr__(self, name):
        return getattr(self._real, name)


class ReplayCoder:
    """``AnsCoder`` whose ``decode`` returns the recorded symbols: the last encoded first, as a
    stack coder does."""

    def __init__(self, log: list, *args):
        self._log = log

    def decode(self, model, *params):
        if not self._log:
            raise SystemExit("replay: the decoder asks for more symbols than the encoder coded")
        symbols = self._log.pop()
        want = len(np.asarray(params[0])) if params else len(symbols)
        if want != len(symbols):
            raise SystemExit(f"replay: the decoder asks for {want} symbols where the encoder coded {len(symbols)}")
        return symbols


def _swap_coder(make) -> None:
    import constriction

    real = constriction.stream.stack.AnsCoder
    constriction.stream.stack.AnsCoder = lambda *args: make(real, *args)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.codecs.drivers.gol", description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", type=Path, help="encode, and save the coder's symbols here (.npz)")
    mode.add_argument("--replay", type=Path, help="decode, the symbols taken from this file")
    a, rest = p.parse_known_args(argv)
    log: list = []
    if a.record:
        _swap_coder(lambda real, *args: RecordingCoder(real, log, *args))
    else:
        with np.load(a.replay) as z:
            log.extend(z[f"a{i}"] for i in range(len(z.files)))
        _swap_coder(lambda real, *args: ReplayCoder(log, *args))
    sys.argv = ["bench.gol.driver", *rest]
    try:
        runpy.run_module("bench.gol.driver", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    if code == 0 and a.record:
        if not log:
            print("record: GoL's encoder handed the coder no symbols (does it still use constriction's "
                  "stack AnsCoder?)", file=sys.stderr)
            return 2
        np.savez(a.record, **{f"a{i}": s for i, s in enumerate(log)})
    if code == 0 and a.replay and log:
        print(f"replay: the decoder left {len(log)} of the encoder's symbol arrays unread", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
