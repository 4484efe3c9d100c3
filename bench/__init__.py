"""bench: a harness to compare video codecs at extremely low bitrates."""

__version__ = "0.1.0"
