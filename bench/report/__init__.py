"""Reports of stored results: the HTML report (:mod:`.html`), text tables (:mod:`.text`), RD curves and
per-frame plots, BD-rate and its tables, GIFs, and re-decoding shown results (:mod:`.reconstruct`)."""
