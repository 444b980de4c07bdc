"""Turn a report's data into one self-contained HTML page.

One Jinja2 environment serves every report kind: autoescaping on (everything that came from a
target system is data, never markup), undefined names fail loudly. Each template extends
``base.html.j2``, which carries the shared CSS, the language attribute and a
Content-Security-Policy that allows no script at all. Templates get, besides their context:

- ``t(key, **values)``: the text of ``key`` in the report's language (see ``i18n.py``);
- ``status(value)``: the reader's word for a run, step or case status;
- ``fmt``: dates, times, durations and numbers written the way the language writes them;
- ``lang``: ``"de"`` or ``"en"``.

Example::

    html = render("run_report.html.j2", {"report": report}, lang="en")
"""

from __future__ import annotations

import base64
import functools
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from orchestrator.reports.i18n import LANGUAGES, status_text, translator

DEFAULT_TIMEZONE = "Europe/Berlin"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
)
"""No scripts, no fetches, no frames: styles inline, images only as ``data:`` URIs."""


@functools.cache
def environment() -> Environment:
    """The one Jinja2 environment of the reports (templates in ``reports/templates/``)."""
    return Environment(
        loader=PackageLoader("orchestrator.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# The formatter's methods are named for what they write (``fmt.date``, ``fmt.datetime``); these
# names keep the types apart from them in its annotations.
Moment = datetime
Day = date


class Formatter:
    """Writes dates, durations and numbers for readers of one language and time zone.

    Example::

        Formatter("de").number(1234.5)   # '1.234,5'
        Formatter("en").number(1234.5)   # '1,234.5'
    """

    def __init__(self, lang: str, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.lang = lang
        self.zone = ZoneInfo(timezone)

    def _local(self, value: Moment) -> Moment:
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(self.zone)

    def datetime(self, value: Moment | None) -> str:
        """``31.01.2025 14:05:09`` (de) or ``2025-01-31 14:05:09`` (en); ``–`` for none."""
        if value is None:
            return "–"
        pattern = "%d.%m.%Y %H:%M:%S" if self.lang == "de" else "%Y-%m-%d %H:%M:%S"
        return self._local(value).strftime(pattern)

    def time(self, value: Moment | None) -> str:
        """``14:05:09`` in the reader's time zone; ``–`` for none."""
        return "–" if value is None else self._local(value).strftime("%H:%M:%S")

    def date(self, value: Day | Moment | None) -> str:
        """``31.01.2025`` (de) or ``2025-01-31`` (en); ``–`` for none."""
        if value is None:
            return "–"
        day = self._local(value).date() if isinstance(value, Moment) else value
        return day.strftime("%d.%m.%Y" if self.lang == "de" else "%Y-%m-%d")

    def duration(self, seconds: float | None) -> str:
        """``1 h 2 min 3 s``; below ten seconds with one decimal (``2,5 s``); ``–`` for none."""
        if seconds is None:
            return "–"
        if seconds < 10:
            return f"{self.number(round(seconds, 1))} s"
        whole = round(seconds)
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        parts = [f"{hours} h"] if hours else []
        if hours or minutes:
            parts.append(f"{minutes} min")
        parts.append(f"{secs} s")
        return " ".join(parts)

    def number(self, value: float | int | None, digits: int = 1) -> str:
        """A number with thousands separators; decimals only where there are any."""
        if value is None:
            return "–"
        text = f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"
        if isinstance(value, float) and "." in text:
            text = text.rstrip("0").rstrip(".")
        if self.lang == "de":
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return text

    def percent(self, value: float | None, digits: int = 1) -> str:
        """``0.953`` -> ``95,3 %`` (de) or ``95.3 %`` (en)."""
        return "–" if value is None else f"{self.number(value * 100, digits)} %"


def render(
    template_name: str,
    context: dict[str, object],
    *,
    lang: str = "de",
    timezone: str = DEFAULT_TIMEZONE,
) -> str:
    """Render ``templates/<template_name>`` with ``context`` in language ``lang``.

    Raises ``ValueError`` for a language other than ``de`` or ``en``.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    t = translator(lang)
    template = environment().get_template(template_name)
    return template.render(
        {
            **context,
            "lang": lang,
            "t": t,
            "status": functools.partial(status_text, t),
            "fmt": Formatter(lang, timezone),
            "content_security_policy": CONTENT_SECURITY_POLICY,
        }
    )


_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}


def data_uri(path: Path) -> str:
    """``path``'s content as a ``data:`` URI, so the report needs no file beside it."""
    media_type = _IMAGE_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{media_type};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
