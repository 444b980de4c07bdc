"""The outbox of e-mail and webhook messages (``store.notifications``).

:mod:`.tables` (``notifications``), :mod:`.records` (the record types and the message's moves
on :class:`~orchestrator.store.leased_work.LeasedWork`) and :mod:`.repository`.
"""
