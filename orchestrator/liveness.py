"""Whether a process that holds a lease is gone, judged from this host's process table.

A lease runs out by itself; on the same host the process table can say "gone" at once, so a
run or a work item a killed process held need not wait for its lease. Used for robots
(:mod:`orchestrator.robot_identity`) and for holders of work items
(:mod:`orchestrator.engine.work_queue`)::

    gone_here("host-1", 4711, since=claimed_at)   # True: that process no longer runs here
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path

# A process that started this long after the registration cannot be the one that registered.
PID_REUSE_MARGIN_S = 60.0


def gone_here(host: str, pid: int, since: datetime) -> bool:
    """True when ``host`` is this host and process ``pid``, which held something ``since``,
    no longer runs here (no such process, a zombie, or a later process reusing the pid).
    False for other hosts (only the lease tells) and for this very process."""
    if host != socket.gethostname() or pid == os.getpid():
        return False
    return not process_running(pid, since)


def process_running(pid: int, registered_at: datetime) -> bool:
    """Whether process ``pid`` runs, is not a zombie, and is older than ``registered_at``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, IndexError, StopIteration, ValueError):
        return True  # no /proc (not Linux): the pid exists, assume it is that process
    if fields[0] == "Z":
        return False
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    # A process that started after the registration cannot be the one that registered; the
    # margin covers the drift between the boot-time clock and the wall clock.
    return started <= registered_at.timestamp() + PID_REUSE_MARGIN_S
