"""Errors that reach the user as one clear line."""


class BenchError(Exception):
    """An error the CLI prints as a single line (``bench: error: ...``) before exiting non-zero."""


class InputError(BenchError):
    """Bad input: a file that is missing, truncated, of the wrong size or format."""


class CodecUnavailable(BenchError):
    """A codec's binary, checkout or checkpoint is missing on this machine."""


class CodecFailed(BenchError):
    """A codec process crashed or returned an error; carries the tail of its stderr."""

    def __init__(self, message: str, stderr_tail: str = "", cmd: list[str] | None = None):
        super().__init__(message)
        self.stderr_tail = stderr_tail
        self.cmd = cmd or []


class CodecTimeout(CodecFailed):
    """A codec process ran past its deadline and was killed."""


class OfflineError(BenchError):
    """A download was needed but the network is unreachable."""


class WeightsUnavailable(BenchError):
    """A metric's network weights are neither cached nor shipped by an installed package."""
