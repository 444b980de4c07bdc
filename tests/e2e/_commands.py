"""`bots` as an admin runs it: a separate process, from `/`, with only the environment given."""

from __future__ import annotations

import os
import subprocess
import sys

from orchestrator.settings import PROJECT_ROOT


def bots(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``bots ARGS`` with ``env`` on top of this process's environment; output as text."""
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        capture_output=True,
        text=True,
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
        timeout=600,
    )
