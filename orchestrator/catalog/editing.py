"""Change ``bot_catalog.yaml`` in place, keeping its comments, order and layout.

The file is read with ruamel.yaml's round-trip loader, changed, checked against the schema and
written to a new file beside it; :meth:`CatalogEdit.commit` then puts it in place in one step
(a rename), so a reader sees the old catalog or the new one, never half of it. Example::

    edit = edit_catalog(path, lambda data: data["bots"]["x"]["versions"][-1].update(
        maturity="proven"))
    store.audit(...)       # the change is recorded first ...
    edit.commit()          # ... then made

An edit that leaves the schema raises before anything is written; :meth:`CatalogEdit.discard`
drops a prepared edit.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from orchestrator.catalog.model import Catalog
from orchestrator.errors import DefinitionError
from orchestrator.model.schema_errors import validate_document
from orchestrator.model.yaml_loader import parse_yaml


def round_trip_yaml() -> YAML:
    """The loader and dumper of the catalog's layout: two spaces per level, list items
    indented under their key (``versions:\\n  - version: 1.2.0``), long lines kept."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


@dataclass
class CatalogEdit:
    """A changed catalog written beside the original, not yet in its place."""

    path: Path
    staged: Path
    text: str

    def commit(self) -> None:
        """Put the changed catalog in place (an atomic rename)."""
        os.replace(self.staged, self.path)

    def discard(self) -> None:
        """Drop the prepared change; the catalog stays as it was."""
        self.staged.unlink(missing_ok=True)


def edit_catalog(path: Path, change: Callable[[Any], None]) -> CatalogEdit:
    """Apply ``change`` to the round-trip data of the catalog at ``path``, check the result
    against the schema and stage it beside ``path`` (see :class:`CatalogEdit`).

    Raises:
        DefinitionError: the changed catalog does not fit the schema (nothing is written).
    """
    path = Path(path)
    yaml = round_trip_yaml()
    data = yaml.load(path.read_text(encoding="utf-8"))
    change(data)
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    _, problems = validate_document(Catalog, parse_yaml(text, str(path)))
    if problems:
        raise DefinitionError(problems)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    staged = Path(name)
    staged.chmod(path.stat().st_mode & 0o777)
    return CatalogEdit(path, staged, text)
