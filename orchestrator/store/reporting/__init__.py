"""Figures over a period (``store.reporting``): :mod:`.records` (the figures' record types)
and :mod:`.repository` (the SQL over the runs' and work items' tables)."""
