"""The strings of every report kind, one module per kind; ``i18n`` looks them up.

A report kind adds its module here and its block to ``STRINGS``.
"""

from __future__ import annotations

from orchestrator.reports.strings.common import COMMON, Strings
from orchestrator.reports.strings.period import PERIOD_REPORT
from orchestrator.reports.strings.run import ACTIONS, RUN_REPORT, STATUS

STRINGS: Strings = {**COMMON, **RUN_REPORT, **STATUS, **ACTIONS, **PERIOD_REPORT}
"""All strings of all report kinds."""

__all__ = ["STRINGS", "Strings"]
