"""Robots and the leases they hold (``store.robots``): :mod:`.tables` (``robots``),
:mod:`.records` (a robot's record and the SQL of its table) and :mod:`.repository`."""
