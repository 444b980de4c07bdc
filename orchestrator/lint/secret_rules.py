"""Rules against secrets written into bot files: values under keys named like a password or
a token, literal values typed into password fields, and strings that look like keys or tokens.

Messages never repeat the value found: a finding's text may end up in CI logs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from orchestrator.lint.context import BotFiles
from orchestrator.lint.rule import Hit, Rule, flow_steps
from orchestrator.model import YamlDocument
from orchestrator.model.yaml_loader import Loc

#: Key names (any part of them) that hold a secret value.
SECRET_KEY = re.compile(
    r"passw(?:or)?[dt]|kennwort|secret|token|api_?key|credential|private_?key|(?:^|_)pin$",
    re.IGNORECASE,
)
#: Where a bot or sub-flow file names secrets or inputs and describes them, without values.
_DESCRIBING = frozenset({"secrets", "inputs", "description", "name", "data_categories", "tags"})
_TOKEN_PREFIX = re.compile(
    r"^(?:gh[pousr]_|github_pat_|glpat-|xox[abposr]-|sk-|AKIA[0-9A-Z]{12}|AIza|eyJ[\w-]+\.eyJ)"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY"
)
_CANDIDATE = re.compile(r"[A-Za-z0-9+/_\-]{20,}={0,2}")
#: Bits per character above which a mixed-case alphanumeric run looks random.
MIN_ENTROPY = 3.8


def _scalars(value: Any, loc: Loc) -> Iterator[tuple[Loc, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _scalars(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _scalars(item, (*loc, index))
    else:
        yield loc, value


def _literal(value: Any) -> bool:
    """A value written into the file: not a template (``{{ secrets.X }}``, ``{{ params.x }}``)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and value.strip() != "" and "{{" not in value


def _file_values(doc: YamlDocument) -> Iterator[tuple[Loc, Any]]:
    """Every scalar of a bot or sub-flow file, except the names and descriptions of secrets
    and the bot's descriptive texts."""
    data = doc.data if isinstance(doc.data, dict) else {}
    for key, value in data.items():
        if key not in _DESCRIBING:
            yield from _scalars(value, (key,))


def _named_secret(loc: Loc) -> str | None:
    """The key naming a secret value at ``loc``: its own key, or a parameter's name for its
    ``default``. Example: ``("steps", 0, "with", "passwort")`` -> ``passwort``."""
    keys = [part for part in loc if isinstance(part, str)]
    if keys and SECRET_KEY.search(keys[-1]):
        return keys[-1]
    if len(keys) >= 2 and keys[-1] == "default" and SECRET_KEY.search(keys[-2]):
        return keys[-2]
    return None


def _secret_fields(doc: YamlDocument, step: dict[str, Any]) -> bool:
    """Whether a ``fill`` step's field is a password field (its locator says so)."""
    locator = step.get("fill")
    texts = _scalars(locator, ()) if isinstance(locator, dict) else iter(())
    return any(isinstance(text, str) and SECRET_KEY.search(text) for _, text in texts)


def _secret_literals(bot: BotFiles) -> Iterator[Hit]:
    for doc in bot.docs:
        for loc, value in _file_values(doc):
            if _literal(value) and (key := _named_secret(loc)) is not None:
                yield Hit(
                    doc, loc,
                    f"{key!r} has a value written into the file; a secret belongs in the "
                    f'secret store: declare it under secrets: and write "{{{{ secrets.NAME }}}}"',
                )  # fmt: skip
    for doc, visit in flow_steps(bot):
        value = visit.get("value")
        if visit.kind == "fill" and _literal(value) and _secret_fields(doc, visit.step):
            yield Hit(
                doc, (*visit.loc, "value"),
                "a password field is filled with a value written into the file; declare a "
                'secret and fill "{{ secrets.NAME }}"',
            )  # fmt: skip


def entropy(text: str) -> float:
    """Shannon entropy in bits per character. Example: ``entropy("aaaa")`` -> 0.0."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_like_token(text: str) -> bool:
    """Whether ``text`` holds something like an API token, a key or a random password.

    Known token shapes (``ghp_...``, ``xoxb-...``, JWTs, PEM keys), or a run of 20 or more
    letters and digits mixing upper and lower case and digits with high entropy, or 32 or
    more hex digits. Templates are skipped; UUIDs are not tokens.
    """
    if "{{" in text:
        return False
    if _TOKEN_PREFIX.search(text.strip()):
        return True
    for run in _CANDIDATE.findall(text):
        core = run.strip("=")
        if re.fullmatch(r"[0-9a-fA-F]{32,}", core):
            return True
        classes = sum(bool(re.search(p, core)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
        if classes == 3 and entropy(core) >= MIN_ENTROPY:
            return True
    return False


def _token_like(bot: BotFiles) -> Iterator[Hit]:
    for doc in bot.docs:
        for loc, value in _file_values(doc):
            if isinstance(value, str) and _named_secret(loc) is None and looks_like_token(value):
                yield Hit(
                    doc, loc,
                    "this value looks like a token, a key or a random password; if it is one, "
                    'move it to the secret store and write "{{ secrets.NAME }}"',
                )  # fmt: skip


RULES = (
    Rule(
        "secret-in-file",
        "A password or token is written into a bot file.",
        "Bot files are shared between cities, kept in version control and packed into bundles: "
        "a password in one is readable by everyone who sees the file, and stays in its history. "
        'Declare the secret under secrets: and use it as "{{ secrets.NAME }}"; its value '
        "comes from the secret store. Found: keys named like password, passwort, kennwort, "
        "token, secret, api_key with a written value, and fill steps typing a written value "
        "into a password field.",
        "error",
        _secret_literals,
    ),
    Rule(
        "token-like-value",
        "A value looks like a token, a key or a random password.",
        "A long random-looking string (mixed letters and digits of high entropy, a long hex "
        "run, or a known token shape such as ghp_..., xoxb-..., a JWT or a PEM key) is most "
        "likely a credential. Move it to the secret store; if it is not one, silence the line "
        "with a bots-lint comment.",
        "warning",
        _token_like,
    ),
)
