"""The words of the reports, in German (the default) and English.

Every report kind keeps its strings in a module of its own under ``strings/``; this module
looks them up. A template reads them through ``t``::

    <h2>{{ t("run.cases") }}</h2>
    {{ t("run.count_cases", n=3) }}      {# placeholders filled with str.format #}
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.reports.strings import STRINGS

__all__ = ["LANGUAGES", "STRINGS", "status_text", "translator"]

LANGUAGES = ("de", "en")
"""The languages a report can be written in; the first is the default."""


def translator(lang: str) -> Callable[..., str]:
    """The ``t(key, **values)`` function of language ``lang``.

    A key without a text in ``lang`` falls back to German; an unknown key raises ``KeyError``,
    so a typo in a template fails its test rather than showing a key to a Fachamt::

        t = translator("en")
        t("run.counts.done")  # 'Done'
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}: choose one of {', '.join(LANGUAGES)}")

    def t(key: str, **values: object) -> str:
        texts = STRINGS[key]
        text = texts.get(lang) or texts[LANGUAGES[0]]
        return text.format(**values) if values else text

    return t


def status_text(t: Callable[..., str], status: str) -> str:
    """The reader's word for a run, step or case status; an unknown status shows as is."""
    key = f"status.{status}"
    return t(key) if key in STRINGS else status
