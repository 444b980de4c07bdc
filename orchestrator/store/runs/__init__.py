"""Runs: the run queue and claiming, runs with their steps and artifacts, their moves, reports.

:mod:`.tables` (``runs``, ``steps``, ``artifacts``), :mod:`.records` (steps and artifacts
written, runs read back), :mod:`.moves` (the run as an entity with states, on
:class:`~orchestrator.store.leased_work.LeasedWork`), :mod:`.queue` (requests and claiming),
:mod:`.repository` (:class:`~.repository.RunRepository`, ``store.runs``) and :mod:`.reports`
(what a run report reads besides the run).
"""
