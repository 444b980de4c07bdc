"""Semantic versions (https://semver.org) as the catalog orders them.

``bot.yaml`` and ``bot_catalog.yaml`` write versions as text (``1.2.0``, ``2.0.0-rc.1``);
:func:`semver_key` orders them by precedence: numbers compare as numbers, a pre-release comes
before its release, build metadata (``+build.7``) is ignored. Example::

    sorted(["1.10.0", "1.2.0", "1.2.0-rc.1"], key=semver_key)
    # ['1.2.0-rc.1', '1.2.0', '1.10.0']
"""

from __future__ import annotations

import re

from orchestrator.model.bot import SEMVER

_SEMVER = re.compile(SEMVER)

#: A pre-release identifier: numeric ones come before alphanumeric ones (semver item 11).
_Identifier = tuple[int, int, str]
SemverKey = tuple[int, int, int, int, tuple[_Identifier, ...]]


def is_semver(text: object) -> bool:
    """Whether ``text`` is a version like ``1.2.0`` (pre-release and build allowed)."""
    return isinstance(text, str) and _SEMVER.match(text) is not None


def semver_key(text: str) -> SemverKey:
    """A sort key giving ``text``'s precedence among versions.

    Raises:
        ValueError: ``text`` is no semantic version.
    """
    if not is_semver(text):
        raise ValueError(f"{text!r} is not a semantic version like '1.2.0'")
    core, _, pre = text.split("+", 1)[0].partition("-")
    major, minor, patch = (int(part) for part in core.split("."))
    if not pre:
        return (major, minor, patch, 1, ())  # a release comes after its pre-releases
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
    )
    return (major, minor, patch, 0, identifiers)


def newer(a: str, b: str) -> bool:
    """Whether version ``a`` is newer than ``b`` (``newer("1.10.0", "1.9.3")`` is True)."""
    return semver_key(a) > semver_key(b)
