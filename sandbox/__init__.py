"""Stand-ins of the target systems: real web apps that a real Chromium drives.

Two apps share one ASGI application (:func:`sandbox.app.create_app`):

* ``/civento/...`` - a case-worker UI in the style of Civento (GWT traits: generated ids,
  "Bitte warten" overlay, select2 dropdowns, Latin-1-only text fields, steps as tabs);
* ``/gewerberegister/...`` - an older Fachverfahren with an iframe work area, server-side
  validation and duplicate detection.

Their state lives in one SQLite file under the sandbox directory
(``<BOTS_DATA_DIR>/sandbox/sandbox.sqlite``). See ``docs/sandbox.md``.
"""
