"""Subprocess drivers of the learned codecs (``python -m bench.codecs.drivers.<name>``): each imports a
user's checkout of the authors' code in its own process; :mod:`.common` is what they share."""
