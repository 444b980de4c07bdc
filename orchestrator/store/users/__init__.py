"""People, their roles and tokens (``store.users``): :mod:`.tables` (``users``) and
:mod:`.repository` (with the record types)."""
