"""The orchestrator: bot definitions, their execution and run history.

Layers, each a package:

* ``orchestrator.model``  - the inert bot definition (pydantic) and its YAML loader.
* ``orchestrator.engine`` - interprets a definition against connectors and produces results.
* ``orchestrator.store``  - run history in SQLite or PostgreSQL.
"""

__version__ = "0.1.0"
