"""Secrets: where their values come from, how templates hold them, and how they are redacted.

A bot declares secret *names*; values come from a :class:`SecretProvider`, for now the
environment (``BOTS_SECRET_<NAME>``)::

    provider = EnvSecretProvider()          # BOTS_SECRET_PORTAL_PASSWORD=...
    provider.get("portal_password")

In templates ``secrets.NAME`` is a :class:`SecretValue` whose ``str()`` is ``***``, so a secret
cannot leak into a URL, a log line or a variable's text; only ``fill`` and hook calls
:func:`reveal` it. The :class:`Redactor` knows every value used in a run, and the session
cookies and CSRF tokens the run was given (:mod:`orchestrator.engine.credentials`), and replaces
each (and its URL-, JSON- and HTML-encoded forms) with ``***`` in messages, logs and artifact
files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from orchestrator.errors import SecretMissing

MASK = "***"


class SecretProvider(Protocol):
    """Where secret values come from (environment, vault, ...)."""

    def get(self, name: str) -> str:
        """The value of secret ``name``; raises SecretMissing when there is none."""
        ...


class EnvSecretProvider:
    """Secrets from the environment: ``portal-password`` -> ``BOTS_SECRET_PORTAL_PASSWORD``.

    With a tenant, the tenant's own variable comes first: for tenant ``giessen``,
    ``BOTS_SECRET_GIESSEN__PORTAL_PASSWORD``, then the shared ``BOTS_SECRET_PORTAL_PASSWORD``.
    A robot serving several cities thus hands each run only its own city's accounts.
    """

    def __init__(
        self, environ: Mapping[str, str] | None = None, *, tenant: str | None = None
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._tenant = tenant

    @staticmethod
    def variable(name: str, tenant: str | None = None) -> str:
        """The environment variable holding secret ``name`` (of ``tenant``)."""
        scope = _env_name(tenant) + "__" if tenant else ""
        return "BOTS_SECRET_" + scope + _env_name(name)

    def get(self, name: str) -> str:
        """The value of the tenant's or the shared variable; unset or empty: SecretMissing."""
        candidates = [self.variable(name, self._tenant)] if self._tenant else []
        candidates.append(self.variable(name))
        for variable in candidates:
            value = self._environ.get(variable)
            if value:
                return value
        raise SecretMissing(
            f"secret {name!r} has no value: set the environment variable "
            + " or ".join(candidates)
            + "."
        )


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


class MappingSecretProvider:
    """Secrets from a mapping, for tests, benchmarks and the demo (training values only)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def get(self, name: str) -> str:
        """The value stored under ``name``; missing raises SecretMissing."""
        if not self._values.get(name):
            raise SecretMissing(f"secret {name!r} has no value in the given secret mapping.")
        return self._values[name]


class SecretValue:
    """A secret as templates see it: ``str()`` is ``***``; :func:`reveal` gives the value.

    The value sits in a slot whose name starts with ``_``, which Jinja's sandbox refuses to
    read, and there is deliberately no method returning it.
    """

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self._value = value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"SecretValue({self.name!r}, {MASK})"


def reveal(value: Any) -> Any:
    """``value`` with every SecretValue inside (dicts, lists) replaced by its real value."""
    if isinstance(value, SecretValue):
        return value._value
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


# ------------------------------------------------------------------------------ redaction

_HTML_NAMED = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _hex_pattern(number: int, width: int) -> str:
    """``number`` in hex with either letter case, e.g. 0xe4 -> ``[eE]4``."""
    out = []
    for digit in f"{number:0{width}x}":
        out.append(f"[{digit}{digit.upper()}]" if digit.isalpha() else digit)
    return "".join(out)


def _char_forms(char: str) -> list[str]:
    """Regex alternatives for one character of a secret as it may appear in text."""
    forms = [re.escape(char)]
    for encoding in ("utf-8", "latin-1"):
        try:
            encoded = char.encode(encoding)
        except UnicodeEncodeError:
            continue
        forms.append("".join("%" + _hex_pattern(b, 2) for b in encoded))  # quote, forms
    if char == " ":
        forms.append(r"\+")  # quote_plus, form posts
    code = ord(char)
    if code <= 0xFFFF:
        forms.append(r"\\u" + _hex_pattern(code, 4))  # JSON with ensure_ascii
    else:  # a surrogate pair in JSON
        high = 0xD800 + ((code - 0x10000) >> 10)
        low = 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(r"\\u" + _hex_pattern(high, 4) + r"\\u" + _hex_pattern(low, 4))
    if char in _JSON_SHORT:
        forms.append(re.escape(_JSON_SHORT[char]))
    if char in _HTML_NAMED:
        forms.append("&" + _HTML_NAMED[char] + ";")
    forms.append(f"&#0*{code};")
    forms.append(f"&#[xX]0*{_hex_pattern(code, 1)};")
    return forms


def _secret_pattern(secret: str) -> str:
    return "".join("(?:" + "|".join(_char_forms(c)) + ")" for c in secret)


def _bytes_pattern(secret: str) -> bytes:
    # The text pattern works on UTF-8 bytes too, except for non-ASCII characters, whose
    # literal forms are their UTF-8 and Latin-1 byte sequences.
    chars = []
    for char in secret:
        forms = _char_forms(char)[1:]
        literal = [re.escape(char.encode("utf-8")).decode("latin-1")]
        try:
            latin = char.encode("latin-1")
            if latin != char.encode("utf-8"):
                literal.append(re.escape(latin).decode("latin-1"))
        except UnicodeEncodeError:
            pass
        chars.append("(?:" + "|".join(literal + forms) + ")")
    return "".join(chars).encode("latin-1")


class Redactor:
    """Replaces every known secret value, and its encoded forms, with ``***``.

    Encoded forms: URL encoding (``quote`` and ``quote_plus``, UTF-8 or Latin-1 bytes, either
    hex case), JSON string escapes (``\\u00e4``, ``\\"``, ``\\/``) and HTML character
    references (``&amp;``, ``&#38;``, ``&#x26;``), also mixed within one value. Example::

        r = Redactor(["Pä$$ w0rd&x=1"])
        r.redact("password=P%C3%A4%24%24+w0rd%26x%3D1")   # "password=***"

    Values can be added while a run goes on (session cookies and CSRF tokens are learnt from
    what a session received, see :mod:`orchestrator.engine.credentials`).
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        # One pattern pair per value, longest value first, so that a secret containing
        # another is replaced whole. Separate patterns, not one alternation: the regex engine
        # scans quickly for a single value's few possible first characters, while an
        # alternation of dozens of values (every cookie and token of a run) tries each at
        # every position, some hundred times slower on a trace of megabytes.
        self._patterns: list[tuple[str, re.Pattern[str], re.Pattern[bytes]]] = []
        self.add_all(values)

    def add(self, value: str) -> None:
        """Redact ``value`` from now on (empty values are ignored)."""
        self.add_all([value])

    def add_all(self, values: Iterable[str]) -> None:
        """Redact each of ``values`` from now on (empty and known values are ignored)."""
        new = {value for value in values if value and value not in self._values}
        if not new:
            return
        self._values |= new
        added = [
            (value, re.compile(_secret_pattern(value)), re.compile(_bytes_pattern(value)))
            for value in new
        ]
        # A new list, not an update in place: a log line redacted meanwhile sees either.
        self._patterns = sorted(
            self._patterns + added, key=lambda entry: (-len(entry[0]), entry[0])
        )

    def __bool__(self) -> bool:
        return bool(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        if not text:
            return text
        for _, pattern, _ in self._patterns:
            text = pattern.sub(MASK, text)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        """``data`` (any encoding of text) with every secret replaced by ``***``."""
        if not data:
            return data
        mask = MASK.encode()
        for _, _, pattern in self._patterns:
            data = pattern.sub(mask, data)
        return data

    def redact_data(self, value: Any) -> Any:
        """Redact every string inside dicts, lists and tuples; secrets become ``***``."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, SecretValue):
            return MASK
        if isinstance(value, dict):
            return {key: self.redact_data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_data(item) for item in value]
        return value
