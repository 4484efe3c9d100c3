"""Results: the result row (:mod:`.row`), the SQLite store (:mod:`.store`), tables and exports
(:mod:`.tables`) and importers of published results (:mod:`.importers`)."""
