"""Work queues and their items (``store.queues``).

:mod:`.tables` (``queues``, ``work_items``, ``work_item_runs``), :mod:`.records` (the record
types), :mod:`.moves` (an item's guarded moves, on
:class:`~orchestrator.store.leased_work.LeasedWork`), :mod:`.actions` (what people do to an
item), :mod:`.loading` (adding and syncing items in bulk), :mod:`.queues` (queues and their
policies) and :mod:`.repository` (:class:`~.repository.WorkQueueRepository`).
"""
