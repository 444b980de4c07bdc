"""Promotion by evidence: refused with the numbers that fall short, accepted once enough runs
succeeded in two cities; written into the catalog with its comments, and audited. On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from _catalog_project import Project
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.catalog.loading import load_catalog
from orchestrator.catalog.promotion import promote
from orchestrator.errors import InputError, InvalidTransition
from orchestrator.states import Maturity, RunStatus
from orchestrator.store import RunRequest, open_store

BOT = "gewerbe-uebertragung"


def bots(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def record_runs(
    url: str,
    tenant: str,
    digest: str,
    *,
    succeeded: int = 0,
    failed: int = 0,
    cancelled: int = 0,
    bot: str = BOT,
) -> None:
    """Runs of ``bot`` in ``tenant``, ended as a robot ends them."""
    outcomes = (
        [RunStatus.SUCCEEDED] * succeeded
        + [RunStatus.FAILED] * failed
        + [RunStatus.CANCELLED] * cancelled
    )
    with open_store(url) as store:
        for status in outcomes:
            request = RunRequest(
                tenant=tenant,
                bot_id=bot,
                bot_version="1.2.0",
                bot_digest=digest,
                parameters={},
                trigger="schedule",
                actor=f"schedule:{tenant}/nachts",
                max_parallel=0,
            )
            run_id = store.start_standalone(
                request, holder="robot-1#aa", lease_s=60, pool_limits={}
            )
            error = "Gewerberegister antwortet nicht" if status is RunStatus.FAILED else None
            store.finish_run(run_id, status, error)


@pytest.fixture
def history(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The run history the commands use."""
    monkeypatch.setenv("BOTS_DATABASE_URL", database_url)
    return database_url


def test_refused_with_the_short_numbers_then_accepted_after_runs_in_two_cities(
    project: Project, history: str
) -> None:
    digest = project.digest(BOT)
    record_runs(history, "giessen", digest, succeeded=12)
    before = project.catalog.read_text(encoding="utf-8")

    refused = bots("catalog", "promote", BOT, "--to", "proven")

    assert refused.exit_code == 1
    assert "refused: gewerbe-uebertragung 1.2.0: pilot -> proven" in refused.stderr
    assert "  successful runs: 12 < 20\n" in refused.stderr
    assert "  cities: 1 < 2 (giessen)\n" in refused.stderr
    assert "success rate" not in refused.stderr  # 12 of 12: not short
    assert "  giessen  12    12         0       100.0 %" in refused.stdout  # the evidence
    assert project.catalog.read_text(encoding="utf-8") == before

    record_runs(history, "marburg", digest, succeeded=9, failed=1, cancelled=2)
    record_runs(history, "marburg", "0" * 64, succeeded=5)  # changed files: do not count

    accepted = bots("catalog", "promote", BOT, "--to", "proven")

    assert accepted.exit_code == 0, accepted.stderr
    assert "  marburg  10    9          1       90.0 %" in accepted.stdout
    assert "  all      22    21         1       95.5 %" in accepted.stdout
    assert "done: gewerbe-uebertragung 1.2.0: pilot -> proven" in accepted.stdout
    # Only the maturity changed: comments, order and layout are kept.
    assert project.catalog.read_text(encoding="utf-8") == before.replace(
        "        maturity: pilot", "        maturity: proven", 1
    )
    assert load_catalog(project.catalog).entry(BOT).newest().maturity is Maturity.PROVEN
    with open_store(history) as store:
        entries = [e for e in store.export_audit() if e["action"] == "catalog version promoted"]
    assert len(entries) == 1
    assert entries[0]["data"]["to"] == "proven"
    assert entries[0]["data"]["cities"] == {"giessen": 12, "marburg": 9}


def test_a_low_success_rate_and_an_old_history_fall_short(project: Project, history: str) -> None:
    digest = project.digest(BOT)
    record_runs(history, "giessen", digest, succeeded=10, failed=2)
    record_runs(history, "marburg", digest, succeeded=10, failed=1)
    with open_store(history) as store:
        result = promote(store, project.catalog, BOT, Maturity.PROVEN, actor="user:test@host")
        assert result.shortfalls == ("success rate: 87.0 % < 95.0 % (20 of 23 runs)",)
        lenient = promote(
            store,
            project.catalog,
            BOT,
            Maturity.PROVEN,
            actor="user:test@host",
            overrides={"min_success_rate": 0.85, "days": 30},
            now=datetime.now(UTC) + timedelta(days=31),  # every run older than 30 days
        )
    assert lenient.shortfalls == (
        "successful runs: 0 < 20",
        "cities: 0 < 2 (none with a successful run)",
        "success rate: no run ended in the last 30 days",
    )
    assert load_catalog(project.catalog).entry(BOT).newest().maturity is Maturity.PILOT


def test_lint_errors_block_proven(project: Project, history: str) -> None:
    bot_file = project.bot_dir("posteingang-export") / "bot.yaml"
    text = bot_file.read_text(encoding="utf-8")
    bot_file.write_text(text.replace("steps:\n", "steps:\n  - pause: 2\n", 1), encoding="utf-8")
    project.write_catalog()  # published as it is now
    catalog = project.catalog.read_text(encoding="utf-8")
    project.write_catalog(catalog.replace("maturity: experimental", "maturity: pilot"))
    digest = project.digest("posteingang-export")
    for city in ("giessen", "marburg"):
        record_runs(history, city, digest, succeeded=10, bot="posteingang-export")

    with open_store(history) as store:
        strict = promote(
            store,
            project.catalog,
            "posteingang-export",
            Maturity.PROVEN,
            actor="user:test@host",
            lint_severities={"fixed-pause": "error"},
        )
        assert strict.shortfalls == ("lint errors: 1 (`bots lint bots/posteingang-export`)",)
        assert "error fixed-pause" in strict.lint_errors[0]
        usual = promote(
            store, project.catalog, "posteingang-export", Maturity.PROVEN, actor="user:test@host"
        )
    assert usual.accepted  # a fixed pause is a warning by default


def test_deprecation_names_a_successor(project: Project, history: str) -> None:
    missing = bots("catalog", "promote", BOT, "--to", "deprecated")
    assert missing.exit_code == 2
    assert "deprecating gewerbe-uebertragung 1.2.0 needs --successor" in missing.stderr

    unknown = bots("catalog", "promote", BOT, "--to", "deprecated", "--successor", "gewerbe-neu")
    assert unknown.exit_code == 2
    assert "the catalog has no bot 'gewerbe-neu'" in unknown.stderr

    done = bots(
        "catalog", "promote", BOT, "--to", "deprecated", "--successor", "posteingang-export"
    )
    assert done.exit_code == 0, done.stderr
    assert "(successor: posteingang-export)" in done.stdout
    assert (
        "        maturity: deprecated\n        successor: posteingang-export\n"
        in project.catalog.read_text(encoding="utf-8")
    )

    final = bots("catalog", "promote", BOT, "--to", "proven")
    assert final.exit_code == 2
    assert (
        "the version 1.2.0 of gewerbe-uebertragung is deprecated; it cannot become proven "
        "(deprecated is final)"
    ) in final.stderr


def test_one_step_at_a_time(project: Project, history: str) -> None:
    with open_store(history) as store:
        with pytest.raises(InvalidTransition, match=r"\(from experimental: pilot, deprecated\)"):
            promote(store, project.catalog, "posteingang-export", Maturity.PROVEN, actor="a")
        with pytest.raises(InputError, match="--successor goes with --to deprecated"):
            promote(
                store,
                project.catalog,
                "posteingang-export",
                Maturity.PILOT,
                actor="a",
                successor=BOT,
            )
        piloted = promote(store, project.catalog, "posteingang-export", Maturity.PILOT, actor="a")
    assert piloted.accepted  # pilot asks for no evidence


def test_only_admins_and_developers_promote(project: Project, history: str) -> None:
    from orchestrator.services import Context, Identity, users
    from orchestrator.settings import load_settings

    with open_store(history) as store:
        os_account = Context(store, load_settings(), Identity.of_os_account())
        users.add_user(os_account, "anna", ["admin"], "giessen")
        _, token = store.users.add_user("giessen", "olaf", ["operator"], actor="user:anna")
    result = CliRunner().invoke(
        app, ["catalog", "promote", BOT, "--to", "proven"], env={"BOTS_TOKEN": token}
    )
    assert result.exit_code == 2
    assert "may not catalog promote" in result.stderr
    listed = CliRunner().invoke(app, ["catalog", "list"], env={"BOTS_TOKEN": token})
    assert listed.exit_code == 0, listed.stderr


def test_evidence_per_city(project: Project, history: str) -> None:
    digest = project.digest(BOT)
    record_runs(history, "marburg", digest, succeeded=2, failed=1, cancelled=1)
    record_runs(history, "giessen", digest, failed=2)
    record_runs(history, "giessen", digest, succeeded=3, bot="posteingang-export")
    with open_store(history) as store:
        since = datetime.now(UTC) - timedelta(days=1)
        evidence = store.catalog_evidence.for_bot(BOT, digest=digest, since=since)
        every_version = store.catalog_evidence.for_bot(BOT, since=since)
    assert [(c.tenant, c.ended, c.succeeded) for c in evidence.cities] == [
        ("giessen", 2, 0),
        ("marburg", 3, 2),
    ]
    assert evidence.cities_with_success == ["marburg"]
    assert evidence.success_rate == pytest.approx(2 / 5)
    assert every_version.ended == 5
