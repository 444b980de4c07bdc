"""Credentials the target systems hand a session: found in what a run produced, then redacted.

Passwords are known before a run starts; session cookies and CSRF tokens are not: the target
issues them during the run, and a new one after each re-login. Anyone holding them can act as
the bot's account until the session ends, so they must not stay in traces and captures. This
module finds their values ("harvests" them) where a run keeps them:

* what a session says it learnt, e.g. its cookies (:func:`harvest_session`);
* a Playwright trace: its network log (``*.network``: request and response headers, cookie
  lists, form posts, query strings) and its events (``*.trace``: DOM snapshots with hidden
  inputs and meta tags, results of calls such as ``cookies``);
* HTML and JSON: hidden inputs, meta tags and keys named like a CSRF token (``csrf_token``,
  ``_token``, ``authenticity_token``, ``__RequestVerificationToken``, ``X-CSRF-Token``, ...).

Each value of at least :data:`MIN_LENGTH` characters goes to the run's
:class:`~orchestrator.engine.secrets.Redactor`, which then removes it, in every encoding, from
every artifact, log line and message scrubbed afterwards. :func:`mask_network` also masks the
credential headers and cookies of a network log by their names, so that a value too short to
harvest is masked there all the same::

    redactor.add_all(harvest(trace_zip_bytes, "trace.zip"))
    network = mask_network(network)   # "Cookie: GRSESSIONID=***", "X-CSRF-Token: ***"
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from connectors.base import Connector
from orchestrator.engine.secrets import MASK, Redactor

#: Shorter values are not harvested: masking them everywhere would mangle unrelated text.
MIN_LENGTH = 8

#: Headers whose whole value is a credential (names in lower case).
CREDENTIAL_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization"})

#: Names of form fields, meta tags, headers and JSON keys that hold a CSRF or similar token.
TOKEN_NAME = re.compile(
    r"csrf|xsrf|authenticity.?token|requestverificationtoken|anti.?forgery"
    r"|api.?key|(?:^|[_.-])token$",
    re.IGNORECASE,
)

# A token set by a script, e.g. ``window.csrfToken = "..."`` or ``{"xsrf": '...'}``.
_SCRIPT_TOKEN = re.compile(
    r"""(?:csrf|xsrf)[\w-]*["']?\s*[:=]\s*["']([^"'\s<>]{8,})["']""", re.IGNORECASE
)
_MARKER = re.compile(rb"csrf|xsrf|token|verification", re.IGNORECASE)
_BINARY_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF", b"%PDF", b"\x1f\x8b")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_token_name(name: str) -> bool:
    """Whether a field, meta tag, header or key named ``name`` holds a token (``_csrf``: yes)."""
    return bool(TOKEN_NAME.search(name))


def is_credential_header(name: str) -> bool:
    """Whether header ``name`` carries a credential (Cookie, Authorization, X-CSRF-Token)."""
    return name.lower() in CREDENTIAL_HEADERS or is_token_name(name)


def worth_redacting(value: str) -> bool:
    """Whether a harvested value is long enough to redact everywhere (and not masked already)."""
    value = value.strip()
    return len(value) >= MIN_LENGTH and MASK not in value


def harvest_session(session: Connector, redactor: Redactor, log: Any = None) -> None:
    """Add the credentials ``session`` learnt (:meth:`~connectors.base.Connector.secrets_learnt`:
    session cookies, tokens) to ``redactor``.

    Call it before failure evidence or what the session leaves (a trace) is kept. A session
    that is gone (crashed, closed) adds nothing; a connector's own bug is not the run's.
    """
    try:
        values = session.secrets_learnt()
    except Exception as exc:
        if log is not None:
            log.warning("session secrets not read", connector=session.name, error=str(exc))
        return
    redactor.add_all(value for value in values if worth_redacting(value))


# ------------------------------------------------------------------------------ harvesting


def harvest(data: bytes, name: str = "") -> set[str]:
    """Credential values in a file's bytes: a zip (recursively), a trace's parts, HTML, JSON.

    Args:
        data: The file's content.
        name: Its name; ``*.network`` and ``*.trace`` (Playwright's trace files) and
            ``*.jsonl`` are read as JSON lines.

    Returns:
        The values worth redacting (see :func:`worth_redacting`).
    """
    found: set[str] = set()
    if data[:4] in _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    found |= harvest(archive.read(info), info.filename)
            return found
        except zipfile.BadZipFile:
            pass  # starts like a zip but is none: look at it as text
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:4096]:
        return found
    if name.endswith((".network", ".trace", ".jsonl")):
        for event in _json_lines(data):
            found |= _from_json(event)
    elif _MARKER.search(data):
        text = data.decode("utf-8", errors="replace")
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                found |= _from_json(json.loads(text))
            except (ValueError, RecursionError):
                found |= harvest_html(text)
        else:
            found |= harvest_html(text)
    return {value for value in found if worth_redacting(value)}


def harvest_html(text: str) -> set[str]:
    """Token values of hidden inputs, meta tags and scripts in HTML (``csrf_token`` and kin).

    Example::

        harvest_html('<meta name="csrf-token" content="4f1d...">')   # {"4f1d..."}
    """
    parser = _TokenParser()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # HTMLParser is lenient, but a broken page still yields its finds
        pass
    found = parser.found | {m.group(1) for m in _SCRIPT_TOKEN.finditer(text)}
    return {value for value in found if worth_redacting(value)}


class _TokenParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): value or "" for key, value in attrs}
        self.found |= _from_element(tag, values)

    handle_startendtag = handle_starttag


def _from_element(tag: str, attrs: dict[str, str]) -> set[str]:
    """Token values of one element (tag and attributes as HTML or a DOM snapshot has them)."""
    tag = tag.lower()
    name = attrs.get("name", "") or attrs.get("id", "")
    if tag == "input" and is_token_name(name):
        return {attrs.get("value", ""), attrs.get("__playwright_value_", "")} - {""}
    if tag == "meta" and is_token_name(name or attrs.get("property", "")):
        return {attrs.get("content", "")} - {""}
    return set()


def _json_lines(data: bytes) -> Iterator[Any]:
    for line in data.splitlines():
        try:
            yield json.loads(line)
        except (ValueError, RecursionError):
            continue  # a torn last line of a trace cut short, or a page nested beyond reason


def _from_json(document: Any) -> set[str]:
    """Credential values anywhere in a parsed JSON document (trace event, HAR entry, body)."""
    found: set[str] = set()
    # A stack, not recursion: a DOM snapshot nests as deep as the page does.
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        value, parent = stack.pop()
        if isinstance(value, list):
            if len(value) > 1 and isinstance(value[0], str) and isinstance(value[1], dict):
                found |= _from_snapshot_node(value)  # a DOM snapshot: [TAG, {attrs}, children]
            stack += [(item, parent) for item in value if isinstance(item, dict | list)]
        elif isinstance(value, dict):
            found |= _from_mapping(value, parent)
            stack += [(item, key) for key, item in value.items() if isinstance(item, dict | list)]
    return found


def _from_mapping(value: dict[str, Any], parent: str) -> set[str]:
    """Credential values in one JSON object (``parent``: the key of the list it is in)."""
    found: set[str] = set()
    name, item = value.get("name"), value.get("value")
    if isinstance(name, str) and isinstance(item, str):
        if parent == "cookies" or {"domain", "path", "httpOnly"} & value.keys():
            found.add(item)  # a cookie, as HAR lists them
        elif parent == "headers" or name.lower() in CREDENTIAL_HEADERS:
            found |= header_values(name, item)
        elif is_token_name(name):
            found.add(item)  # a form parameter or query parameter named like a token
    mime, text = value.get("mimeType"), value.get("text")
    if isinstance(mime, str) and isinstance(text, str) and text:
        found |= _from_body(mime, text)  # postData of a request
    found |= {item for key, item in value.items() if isinstance(item, str) and is_token_name(key)}
    return found


def _from_snapshot_node(node: list[Any]) -> set[str]:
    tag, attrs = node[0], node[1]
    values = {str(k).lower(): v for k, v in attrs.items() if isinstance(v, str)}
    found = _from_element(tag, values)
    if tag.upper() == "SCRIPT":
        for child in node[2:]:
            if isinstance(child, str):
                found |= {m.group(1) for m in _SCRIPT_TOKEN.finditer(child)}
    return found


def _from_body(mime: str, text: str) -> set[str]:
    """Token values in a request body (form-encoded or JSON)."""
    if "json" in mime:
        try:
            return _from_json(json.loads(text))
        except (ValueError, RecursionError):
            return set()
    if "x-www-form-urlencoded" in mime:
        return {value for key, value in parse_qsl(text) if is_token_name(key)}
    return set()


def harvest_url(url: str) -> set[str]:
    """Token values in a URL's query string (``?csrf_token=...``, ``&_token=...``).

    Example: ``harvest_url("https://fv.intern/neu?csrf_token=4f1d9a0c2b7e")`` is
    ``{"4f1d9a0c2b7e"}``.
    """
    query = urlsplit(url).query
    found = {value for key, value in parse_qsl(query) if is_token_name(key)}
    return {value for value in found if worth_redacting(value)}


def header_values(name: str, value: str) -> set[str]:
    """The credential values in one header: cookie values, the token of ``Authorization``.

    Example::

        header_values("Cookie", "GRSESSIONID=abc123def456; lang=de")   # {"abc123def456", "de"}
    """
    lower = name.lower()
    found: set[str] = set()
    if lower == "cookie":
        for pair in value.split(";"):
            found |= _cookie_value(pair)
    elif lower == "set-cookie":
        for line in value.splitlines():
            found |= _cookie_value(line.split(";", 1)[0])
    elif lower in ("authorization", "proxy-authorization"):
        scheme, _, credentials = value.strip().partition(" ")
        found.add(credentials.strip() or scheme)  # "Bearer <token>", or a bare token
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            found.add(decoded.partition(":")[2])  # the password of user:password
    elif is_token_name(name):
        found.add(value.strip())
    return found - {""}


def _cookie_value(pair: str) -> set[str]:
    _, sep, raw = pair.partition("=")
    if not sep:
        return set()
    raw = raw.strip().strip('"')
    return {raw, unquote(raw)} - {""}


# ------------------------------------------------------------------------------ masking


def mask_network(data: bytes) -> bytes:
    """A trace's network log with credential headers, cookies and token fields masked.

    Each line is one resource snapshot (a HAR entry). ``Cookie`` and ``Set-Cookie`` keep the
    cookie names (``GRSESSIONID=***; Path=/``), ``Authorization`` its scheme (``Bearer ***``);
    CSRF headers, cookie lists and form or query parameters named like a token become ``***``.
    Lines that change nothing stay byte for byte as they were.
    """
    lines = data.split(b"\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if _mask_entry(event.get("snapshot") if isinstance(event, dict) else None):
            lines[index] = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    return b"\n".join(lines)


def _mask_entry(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    changed = False
    for side in ("request", "response"):
        message = entry.get(side)
        if not isinstance(message, dict):
            continue
        for header in _pairs(message.get("headers")):
            if is_credential_header(header["name"]):
                masked = mask_header(header["name"], header["value"])
                changed |= masked != header["value"]
                header["value"] = masked
        for cookie in _pairs(message.get("cookies")):
            changed |= cookie["value"] != MASK
            cookie["value"] = MASK
        post = message.get("postData")
        params = [*_pairs(message.get("queryString"))]
        if isinstance(post, dict):
            params += _pairs(post.get("params"))
            text = post.get("text")
            mime = str(post.get("mimeType", ""))
            if isinstance(text, str) and "x-www-form-urlencoded" in mime and text:
                masked_text = _mask_form(text)
                changed |= masked_text != text
                post["text"] = masked_text
        for param in params:
            if is_token_name(param["name"]) and param["value"] != MASK:
                param["value"] = MASK
                changed = True
    return changed


def _pairs(items: Any) -> Iterable[dict[str, Any]]:
    if not isinstance(items, list):
        return []
    return [
        item
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("value"), str)
    ]


def mask_header(name: str, value: str) -> str:
    """``value`` of header ``name`` with its credentials masked, its structure kept.

    Example::

        mask_header("Set-Cookie", "GRSESSIONID=abc; Path=/; HttpOnly")
        # "GRSESSIONID=***; Path=/; HttpOnly"
    """
    lower = name.lower()
    if lower == "cookie":
        return "; ".join(_mask_pair(pair.strip()) for pair in value.split(";") if pair.strip())
    if lower == "set-cookie":
        lines = []
        for line in value.splitlines():
            first, sep, attributes = line.partition(";")
            lines.append(_mask_pair(first.strip()) + sep + attributes)
        return "\n".join(lines)
    if lower in ("authorization", "proxy-authorization"):
        scheme, sep, _ = value.strip().partition(" ")
        return f"{scheme} {MASK}" if sep else MASK
    return MASK


def _mask_pair(pair: str) -> str:
    key, sep, _ = pair.partition("=")
    return f"{key}={MASK}" if sep else MASK


def _mask_form(text: str) -> str:
    parts = []
    for part in text.split("&"):
        key, sep, _ = part.partition("=")
        if sep and is_token_name(unquote(key.replace("+", " "))):
            parts.append(f"{key}={MASK}")
        else:
            parts.append(part)
    return "&".join(parts)
