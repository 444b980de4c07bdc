"""An idle robot holds what waiting takes, not what running takes (``robot_idle_rss_mb``).

The engine, the bot loader (YAML, templates), Alembic, JSON Schema and argon2 are imported
when a robot first needs them: its first run, a new database, a queue with a schema, a token.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Modules a robot that has started and waits for work must not have imported.
NOT_WHILE_IDLE = (
    "orchestrator.engine.runner",
    "orchestrator.engine.interpreter",
    "orchestrator.model.loader",
    "orchestrator.notifications",
    "orchestrator.reports",
    "alembic",
    "jsonschema",
    "argon2",
    "ruamel",
    "jinja2",
)


def test_the_robot_module_imports_no_engine_loader_or_migrations() -> None:
    code = (
        "import json, sys; import orchestrator.robot, orchestrator.commands.robot; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    loaded = json.loads(shown.stdout)
    held = [m for m in loaded if any(m == n or m.startswith(f"{n}.") for n in NOT_WHILE_IDLE)]
    assert held == []
