"""Schedules and leader leases (``store.schedules``): :mod:`.tables` (``leases``,
``schedule_state``), :mod:`.records` (a schedule's state and the SQL of both tables) and
:mod:`.repository`."""
