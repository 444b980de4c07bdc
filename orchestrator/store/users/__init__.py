"""People, their roles and tokens (``store.users``): :mod:`.tables` (``users``),
:mod:`.records` (a user and its roles) and :mod:`.repository` (tokens, adding, disabling)."""
