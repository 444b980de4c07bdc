"""Artifact files of a run: scrubbed of secrets and credentials, hashed, recorded.

Every file kept for a run passes :func:`scrub_file` before its sha256 is taken, so no secret
value reaches the run directory in any form the redactor knows. Zip files (Playwright traces)
are rewritten member by member, recursing into zips inside zips: a trace records fill values
and request bodies in its JSON event files and network resources.

Before scrubbing, the credentials the target systems issued (session cookies, CSRF tokens)
are harvested from the file (:mod:`orchestrator.engine.credentials`) and added to the run's
redactor, so they are removed from this file and from everything scrubbed after it (the run
log is kept last). A trace's network log also has its credential headers masked by name::

    keeper = ArtifactKeeper(store, run_id, redactor)
    keeper.keep(run_dir / "trace.zip", ArtifactKind.TRACE)   # -> ArtifactRecord with sha256
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from orchestrator.engine.credentials import harvest, mask_network
from orchestrator.engine.secrets import Redactor
from orchestrator.results import ArtifactKind, ArtifactRecord

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"


class ArtifactSink(Protocol):
    """The part of the run store that records artifacts."""

    def record_artifacts(self, run_id: int, artifacts: Sequence[ArtifactRecord]) -> None:
        """Record artifact files of run ``run_id``."""
        ...


def _is_zip(data: bytes) -> bool:
    return data[:4] in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)


def scrub_bytes(data: bytes, redactor: Redactor, name: str = "") -> bytes:
    """``data`` with credentials and secrets redacted; a zip is rebuilt with every member scrubbed.

    The credential values found in ``data`` are added to ``redactor`` first (a side effect
    wanted: the log and later artifacts lose them too). ``name`` is the file's name, which
    tells a trace's network log (``*.network``) apart.
    """
    redactor.add_all(harvest(data, name))
    return _scrub(data, redactor, name)


def _scrub(data: bytes, redactor: Redactor, name: str) -> bytes:
    if _is_zip(data):
        try:
            return _scrub_zip(data, redactor)
        except zipfile.BadZipFile:
            pass  # starts like a zip but is none: treat it as plain bytes
    if name.endswith(".network"):
        data = mask_network(data)
    return redactor.redact_bytes(data)


def _scrub_zip(data: bytes, redactor: Redactor) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    clean = [(info, _scrub(member, redactor, info.filename)) for info, member in members]
    renamed = [redactor.redact(info.filename) for info, _ in members]
    if all(
        new == old and name == info.filename
        for (info, old), (_, new), name in zip(members, clean, renamed, strict=True)
    ):
        return data  # nothing to redact: the zip stays byte for byte
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for (info, member), name in zip(clean, renamed, strict=True):
            clean_info = zipfile.ZipInfo(name, info.date_time)
            clean_info.compress_type = info.compress_type
            clean_info.external_attr = info.external_attr
            target.writestr(clean_info, member)
    return out.getvalue()


def scrub_file(path: Path, redactor: Redactor) -> None:
    """Redact credentials and secrets inside the file at ``path`` in place (atomically)."""
    data = path.read_bytes()
    clean = scrub_bytes(data, redactor, path.name)
    if clean == data:
        return
    temporary = path.with_name(path.name + ".scrub")
    temporary.write_bytes(clean)
    os.replace(temporary, path)


def sha256_of(path: Path) -> tuple[str, int]:
    """The file's sha256 (hex) and size in bytes."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class ArtifactKeeper:
    """Scrubs, hashes and records the files of one run.

    Files kept while the run executes are recorded at once; those kept as it ends
    (``defer=True``: log, failure evidence, trace) wait in :attr:`deferred` for the
    transaction that records the run's outcome. When a file reveals credentials not known
    before (the trace has the session cookies of every login), the deferred files kept
    earlier are scrubbed again and re-hashed: the order of keeping does not matter.
    """

    def __init__(self, store: ArtifactSink, run_id: int, redactor: Redactor) -> None:
        self._store = store
        self._run_id = run_id
        self._redactor = redactor
        self.kept: list[ArtifactRecord] = []
        self.deferred: list[ArtifactRecord] = []

    def keep(
        self,
        path: Path,
        kind: ArtifactKind,
        step_path: str | None = None,
        *,
        source: Path | None = None,
        defer: bool = False,
    ) -> ArtifactRecord:
        """Scrub the file, hash it and record it (``defer``: later); the path is absolute.

        With ``source`` (a file outside the run directory, e.g. Playwright's trace), the
        scrubbed content is written to ``path`` and ``source`` is removed: the raw bytes
        never enter the run directory.
        """
        known = len(self._redactor)
        if source is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(scrub_bytes(source.read_bytes(), self._redactor, path.name))
            source.unlink(missing_ok=True)
        else:
            scrub_file(path, self._redactor)
        sha256, size = sha256_of(path)
        record = ArtifactRecord(
            kind=kind, path=str(path.resolve()), sha256=sha256, size=size, step_path=step_path
        )
        if len(self._redactor) > known:
            self._scrub_deferred_again()
        if defer:
            self.deferred.append(record)
        else:
            self._store.record_artifacts(self._run_id, [record])
        self.kept.append(record)
        return record

    def _scrub_deferred_again(self) -> None:
        """Scrub the deferred files once more with the credentials learnt since they were kept.

        One pass suffices: each file's own credentials were harvested when it was kept.
        """
        for index, record in enumerate(self.deferred):
            path = Path(record.path)
            try:
                scrub_file(path, self._redactor)
                sha256, size = sha256_of(path)
            except OSError:
                continue  # gone meanwhile: the outcome's transaction reports what exists
            if sha256 == record.sha256:
                continue
            updated = dataclasses.replace(record, sha256=sha256, size=size)
            self.deferred[index] = updated
            self.kept[self.kept.index(record)] = updated
