"""`bots catalog install|upgrade`: a valid bundle installed, two cities running the same
catalog bot with their own overlays (same digest in both runs' history), an upgrade that shows
what changed and keeps the overlay, a refused upgrade that leaves the installed files as they
were."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from _bundles import (
    NEW_BOT,
    Keys,
    bot_files,
    bots,
    make_keys,
    member,
    new_bot,
    read_members,
    signed_members,
    snapshot,
    write_bundle,
)
from _catalog_project import Project

from orchestrator.catalog.editing import CatalogEdit
from orchestrator.catalog.loading import open_catalog
from orchestrator.settings import load_settings
from orchestrator.store import open_store

#: A bot without a browser that fills a work queue: what its items carry shows the target,
#: parameters and secret each city's run used.
DISPATCHER = "meldungen-verteilen"
DISPATCHER_YAML = """\
id: meldungen-verteilen
name: Meldungen verteilen
version: 1.0.0
owner: {city: Gießen, fachamt: Ordnungsamt}
manual_minutes_per_case: 1
targets: [fachverfahren]
parameters:
  praefix: {type: string, description: Vorsilbe der Meldungsnummern}
  anzahl: {type: integer, default: 1, description: So viele Meldungen}
secrets:
  api_token: Token der Schnittstelle des Fachverfahrens
steps:
  - call: hooks:meldungen
    with:
      praefix: "{{ params.praefix }}"
      anzahl: "{{ params.anzahl }}"
      adresse: "{{ targets.fachverfahren }}"
      token: "{{ secrets.api_token }}"
    into: meldungen
  - add_items: eingang
    items: "{{ meldungen }}"
    reference: "{{ item.nummer }}"
"""
DISPATCHER_HOOKS = '''\
"""Hooks of meldungen-verteilen."""


def meldungen(ctx, praefix, anzahl, adresse, token):
    """``anzahl`` Meldungen, each naming the address and the token's length it got."""
    return [
        {"nummer": f"{praefix}-{n}", "adresse": adresse, "token_laenge": len(token)}
        for n in range(1, int(anzahl) + 1)
    ]
'''
OVERLAY = """\
# {city}: eigene Adresse, eigenes Token, eigene Warteschlange
bot: meldungen-verteilen
version: 1.0.0
fachamt: Ordnungsamt
targets: {{fachverfahren: "https://fv.{city}.example"}}
secrets: {{api_token: {secret}}}
parameters: {{praefix: {prefix}, anzahl: {count}}}
queues: {{eingang: eingang-{city}}}
"""


@pytest.fixture
def keys(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keys:
    """Gießen's signing key, trusted by every tenant of the project."""
    made = make_keys(tmp_path / "keys", "giessen")
    config = tmp_path / "bots.yaml"
    config.write_text(f"catalog_trust:\n  keys: [{made.public_text}]\n", encoding="utf-8")
    monkeypatch.setenv("BOTS_CONFIG", str(config))
    return made


def publish(project: Project, keys: Keys, bot: str) -> dict[str, object]:
    result = bots(
        "catalog",
        "pack",
        bot,
        "-o",
        str(project.root / "dist"),
        "--key",
        str(keys.private_file),
        "--publish",
        "--json",
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def install(*args: str) -> dict[str, object]:
    result = bots("catalog", "install", *args, "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_a_valid_bundle_verifies_and_installs_with_its_files_byte_identical(
    project: Project, keys: Keys, tmp_path: Path
) -> None:
    source = new_bot(tmp_path / "elsewhere")
    packed = bots(
        "catalog",
        "pack",
        str(source),
        "-o",
        str(tmp_path / "dist"),
        "--key",
        str(keys.private_file),
        "--json",
    )
    bundle = Path(json.loads(packed.stdout)["bundle"])
    assert bots("catalog", "verify", str(bundle), "--tenant", "marburg").exit_code == 0

    done = install(str(bundle), "--tenant", "marburg")

    target = project.root / "bots" / NEW_BOT
    assert done["files"] == "written" and Path(str(done["directory"])) == target
    assert bot_files(target) == bot_files(source)
    assert project.digest(NEW_BOT) == json.loads(packed.stdout)["digest"]
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no leftovers
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's 0700
    assert stat.S_IMODE((target / "bot.yaml").stat().st_mode) == 0o666 & ~umask
    entry = open_catalog(project.catalog).entry(NEW_BOT)
    assert entry.path == f"bots/{NEW_BOT}"
    assert [(v.version, v.digest, v.maturity) for v in entry.versions] == [
        ("1.0.0", project.digest(NEW_BOT), "experimental")
    ]
    assert entry.installations["marburg"].overlay == f"overlays/marburg/{NEW_BOT}.yaml"
    assert "# The bots the cities share (a comment that promotion keeps)." in (
        project.catalog.read_text(encoding="utf-8")
    )
    with open_store(load_settings().database) as store:
        audited = [e for e in store.export_audit() if e["action"] == "catalog install"]
    assert [(e["tenant"], e["data"]["bot"], e["data"]["files"]) for e in audited] == [
        ("marburg", NEW_BOT, "written")
    ]


def test_install_refuses_to_overwrite_other_files_of_the_bot(
    project: Project, keys: Keys, tmp_path: Path
) -> None:
    source = new_bot(tmp_path / "elsewhere")
    bots("catalog", "pack", str(source), "-o", str(tmp_path), "--key", str(keys.private_file))
    other = new_bot(project.root / "bots")  # the same bot, changed here
    (other / "hooks.py").write_text("# changed here\n", encoding="utf-8")
    before = snapshot(project.root)

    result = bots(
        "catalog", "install", str(tmp_path / f"{NEW_BOT}-1.0.0.bundle"), "--tenant", "marburg"
    )

    assert result.exit_code == 2
    assert f"{other} holds other files of {NEW_BOT}" in result.output
    assert snapshot(project.root) == before


def dispatcher(project: Project, keys: Keys) -> str:
    """The dispatcher bot in the project, published (1.0.0) and installed for two cities
    with overlays of their own; returns its published digest."""
    directory = project.root / "bots" / DISPATCHER
    directory.mkdir()
    (directory / "bot.yaml").write_text(DISPATCHER_YAML, encoding="utf-8")
    (directory / "hooks.py").write_text(DISPATCHER_HOOKS, encoding="utf-8")
    digest = str(publish(project, keys, DISPATCHER)["digest"])
    cities = {"giessen": ("GI_TOKEN", "GI", 2), "marburg": ("MR_TOKEN", "MR", 3)}
    for city, (secret, prefix, count) in cities.items():
        install(DISPATCHER, "--tenant", city)
        overlay = project.root / "overlays" / city / f"{DISPATCHER}.yaml"
        text = OVERLAY.format(city=city, secret=secret, prefix=prefix, count=count)
        overlay.write_text(text, encoding="utf-8")
    return digest


def test_two_cities_run_the_same_catalog_bot_with_their_own_overlays(
    project: Project, keys: Keys
) -> None:
    digest = dispatcher(project, keys)
    assert bots("validate", "--catalog").exit_code == 0
    secrets = {"BOTS_SECRET_GI_TOKEN": "abc", "BOTS_SECRET_MR_TOKEN": "abcdef"}

    runs = {}
    for city in ("giessen", "marburg"):
        result = bots("run", DISPATCHER, "--tenant", city, "--json", "--no-retry", env=secrets)
        assert result.exit_code == 0, result.output
        runs[city] = json.loads(result.stdout)

    # The same files ran in both cities: the digest the catalog published for 1.0.0.
    assert runs["giessen"]["digest"] == runs["marburg"]["digest"] == digest
    assert project.digest(DISPATCHER) == digest
    assert runs["giessen"]["parameters"] == {"praefix": "GI", "anzahl": 2}
    assert runs["marburg"]["parameters"] == {"praefix": "MR", "anzahl": 3}
    with open_store(load_settings().database) as store:
        history = {r.tenant: r.digest for r in store.list_runs(bot_id=DISPATCHER)}
        assert history == {"giessen": digest, "marburg": digest}
        items = {
            city: [
                (item.reference, item.payload)
                for item in store.queues.list_items(city, f"eingang-{city}")
            ]
            for city in ("giessen", "marburg")
        }
    # Each city's target, secret (by its own name) and queue.
    assert sorted(items["giessen"]) == [
        (
            f"GI-{n}",
            {"nummer": f"GI-{n}", "adresse": "https://fv.giessen.example", "token_laenge": 3},
        )
        for n in (1, 2)
    ]
    assert sorted(items["marburg"]) == [
        (
            f"MR-{n}",
            {"nummer": f"MR-{n}", "adresse": "https://fv.marburg.example", "token_laenge": 6},
        )
        for n in (1, 2, 3)
    ]


def test_a_run_queued_for_a_city_carries_the_overlay_s_values(project: Project, keys: Keys) -> None:
    """``praefix`` has no default: only the overlay gives it, already when the run is queued."""
    dispatcher(project, keys)

    result = bots("run", DISPATCHER, "--tenant", "marburg", "--enqueue", "-p", "anzahl=1")

    assert result.exit_code == 0, result.output
    with open_store(load_settings().database) as store:
        (queued,) = store.list_runs(bot_id=DISPATCHER)
    assert (queued.tenant, queued.parameters) == ("marburg", {"praefix": "MR", "anzahl": 1})


def test_a_city_runs_only_the_files_it_installed(project: Project, keys: Keys) -> None:
    dispatcher(project, keys)
    hooks = project.root / "bots" / DISPATCHER / "hooks.py"
    hooks.write_text(hooks.read_text() + "\n# changed after publishing\n", encoding="utf-8")

    result = bots(
        "run", DISPATCHER, "--tenant", "giessen", "--no-retry", env={"BOTS_SECRET_GI_TOKEN": "abc"}
    )

    assert result.exit_code == 2
    assert f"tenant 'giessen' installed {DISPATCHER} 1.0.0 with digest" in result.output
    assert "they changed since they were published" in result.output


def test_upgrade_shows_what_changed_and_keeps_the_overlay(project: Project, keys: Keys) -> None:
    dispatcher(project, keys)
    bot_yaml = project.root / "bots" / DISPATCHER / "bot.yaml"
    newer = (
        bot_yaml.read_text()
        .replace("version: 1.0.0", "version: 1.1.0")
        .replace(
            "secrets:\n",
            "  stichtag: {type: date, description: Meldungen ab diesem Tag}\nsecrets:\n",
        )
    )
    bot_yaml.write_text(newer, encoding="utf-8")
    publish(project, keys, DISPATCHER)
    overlay = project.root / "overlays" / "marburg" / f"{DISPATCHER}.yaml"

    result = bots("catalog", "upgrade", DISPATCHER, "--tenant", "marburg", "--to", "1.1.0")

    assert result.exit_code == 0, result.output
    assert f"upgraded {DISPATCHER} 1.0.0 -> 1.1.0 for marburg" in result.output
    assert "changes from 1.0.0 to 1.1.0:" in result.output
    assert "parameters" in result.output.split("changes from", 1)[1]
    assert "(added: parameters.stichtag)" in result.output
    text = overlay.read_text(encoding="utf-8")
    assert text.startswith("# marburg: eigene Adresse")  # the city's comment kept
    assert 'targets: {fachverfahren: "https://fv.marburg.example"}' in text
    assert "queues: {eingang: eingang-marburg}" in text
    assert "version: 1.1.0" in text
    assert "Pflichtwert eintragen (date): Meldungen ab diesem Tag" in text
    catalog = open_catalog(project.catalog).entry(DISPATCHER)
    assert catalog.installations["marburg"].version == "1.1.0"
    assert catalog.installations["giessen"].version == "1.0.0"
    # Until Marburg fills in the new parameter, its runs are refused with the position.
    refused = bots("run", DISPATCHER, "--tenant", "marburg", env={"BOTS_SECRET_MR_TOKEN": "x"})
    assert refused.exit_code == 2
    assert f"overlays/marburg/{DISPATCHER}.yaml:" in refused.output
    assert "parameters.stichtag: empty" in refused.output


def test_a_refused_upgrade_leaves_the_installed_files_as_they_were(
    project: Project, keys: Keys, tmp_path: Path
) -> None:
    """A bundle from elsewhere replaces the bot's files only once the new ones are complete
    and valid; here the bot in it is broken, so nothing changes."""
    source = new_bot(tmp_path / "elsewhere")
    bots("catalog", "pack", str(source), "-o", str(tmp_path), "--key", str(keys.private_file))
    install(str(tmp_path / f"{NEW_BOT}-1.0.0.bundle"), "--tenant", "marburg")
    files = bot_files(source)
    files["bot.yaml"] = files["bot.yaml"].replace(b"version: 1.0.0", b"version: 1.1.0")
    files["bot.yaml"] = files["bot.yaml"].replace(b"use: civento.abmelden", b"use: civento.abmeldn")
    members = signed_members(files, keys.private, bot=NEW_BOT, version="1.1.0")
    broken = write_bundle(
        tmp_path / "broken.bundle", [*members, *[member(f"bot/{n}", d) for n, d in files.items()]]
    )
    assert [i.name for i, _ in read_members(broken)][:2] == ["manifest.json", "signature"]
    before = snapshot(project.root)

    result = bots(
        "catalog",
        "upgrade",
        NEW_BOT,
        "--tenant",
        "marburg",
        "--to",
        "1.1.0",
        "--bundle",
        str(broken),
    )

    assert result.exit_code == 2, result.output
    assert "the bot in it has errors" in result.output
    assert "broken.bundle:bot/bot.yaml:" in result.output and "'abmeldn'" in result.output
    assert snapshot(project.root) == before


def test_upgrade_from_a_bundle_replaces_the_files_in_one_step(
    project: Project, keys: Keys, tmp_path: Path
) -> None:
    source = new_bot(tmp_path / "v1")
    bots("catalog", "pack", str(source), "-o", str(tmp_path), "--key", str(keys.private_file))
    install(str(tmp_path / f"{NEW_BOT}-1.0.0.bundle"), "--tenant", "marburg")
    newer = new_bot(tmp_path / "v2", version="1.1.0")
    (newer / "vorlage.txt").write_text("Neue Vorlage\n", encoding="utf-8")
    bots("catalog", "pack", str(newer), "-o", str(tmp_path), "--key", str(keys.private_file))

    done = bots(
        "catalog",
        "upgrade",
        NEW_BOT,
        "--tenant",
        "marburg",
        "--to",
        "1.1.0",
        "--bundle",
        str(tmp_path / f"{NEW_BOT}-1.1.0.bundle"),
        "--json",
    )

    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert (result["previous"], result["version"], result["files"]) == (
        "1.0.0",
        "1.1.0",
        "replaced",
    )
    assert any("vorlage.txt" in line for line in result["changes"]), result["changes"]
    target = project.root / "bots" / NEW_BOT
    assert bot_files(target) == bot_files(newer)
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
    versions = [v.version for v in open_catalog(project.catalog).entry(NEW_BOT).versions]
    assert versions == ["1.0.0", "1.1.0"]


def test_an_upgrade_failing_at_the_last_step_leaves_the_old_files_and_overlay(
    project: Project, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replaced files are kept until the catalog records the upgrade; when that fails
    they are put back, and the overlay as it was."""
    source = new_bot(tmp_path / "v1")
    bots("catalog", "pack", str(source), "-o", str(tmp_path), "--key", str(keys.private_file))
    install(str(tmp_path / f"{NEW_BOT}-1.0.0.bundle"), "--tenant", "marburg")
    newer = new_bot(tmp_path / "v2", version="1.1.0")
    (newer / "vorlage.txt").write_text("Neue Vorlage\n", encoding="utf-8")
    bots("catalog", "pack", str(newer), "-o", str(tmp_path), "--key", str(keys.private_file))
    before = snapshot(project.root)

    def full_disk(self: CatalogEdit) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CatalogEdit, "commit", full_disk)
    result = bots(
        "catalog",
        "upgrade",
        NEW_BOT,
        "--tenant",
        "marburg",
        "--to",
        "1.1.0",
        "--bundle",
        str(tmp_path / f"{NEW_BOT}-1.1.0.bundle"),
    )

    assert result.exit_code != 0
    assert snapshot(project.root) == before
    target = project.root / "bots" / NEW_BOT
    assert bot_files(target) == bot_files(source)
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_installing_an_older_version_needs_a_directory_of_its_own(
    project: Project, keys: Keys, tmp_path: Path
) -> None:
    """The working copy moved on to 1.1.0; 1.0.0 comes from the catalog's bundle into another
    bot directory (for robots of that city)."""
    dispatcher(project, keys)
    bot_yaml = project.root / "bots" / DISPATCHER / "bot.yaml"
    bot_yaml.write_text(bot_yaml.read_text().replace("version: 1.0.0", "version: 1.1.0"))
    publish(project, keys, DISPATCHER)

    refused = bots("catalog", "install", f"{DISPATCHER}@1.0.0", "--tenant", "kassel")
    assert refused.exit_code == 2
    assert "give --into DIR" in refused.output
    done = install(f"{DISPATCHER}@1.0.0", "--tenant", "kassel", "--into", str(tmp_path / "alt"))

    assert done["files"] == "written"
    copy = project.root / "catalog" / "bundles" / f"{DISPATCHER}-1.0.0.bundle"
    assert bot_files(tmp_path / "alt" / DISPATCHER) == {
        name: data
        for name, data in bot_files(project.root / "bots" / DISPATCHER).items()
        if name != "bot.yaml"
    } | {"bot.yaml": bot_yaml.read_bytes().replace(b"version: 1.1.0", b"version: 1.0.0")}
    assert copy.is_file()
    notes = done["notes"]
    assert isinstance(notes, list) and any("not among the bot directories" in n for n in notes)


def test_an_upgrade_replaces_the_files_where_the_city_installed_them(
    project: Project, keys: Keys, tmp_path: Path
) -> None:
    """Kassel installed 1.0.0 with --into; its upgrade to the working copy's 1.1.0 goes there
    again without naming the folder, and the cities running the bot's own path are not told
    their files were replaced."""
    dispatcher(project, keys)
    bot_yaml = project.root / "bots" / DISPATCHER / "bot.yaml"
    bot_yaml.write_text(bot_yaml.read_text().replace("version: 1.0.0", "version: 1.1.0"))
    publish(project, keys, DISPATCHER)
    install(f"{DISPATCHER}@1.0.0", "--tenant", "kassel", "--into", str(tmp_path / "kassel"))
    entry = open_catalog(project.catalog).entry(DISPATCHER)
    assert entry.installations["kassel"].into == str((tmp_path / "kassel").resolve())
    assert entry.installations["giessen"].into is None

    result = bots("catalog", "upgrade", DISPATCHER, "--tenant", "kassel", "--to", "1.1.0", "--json")

    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert Path(str(done["directory"])) == tmp_path / "kassel" / DISPATCHER
    assert not any("still has" in note for note in done["notes"])
    installed = (tmp_path / "kassel" / DISPATCHER / "bot.yaml").read_text(encoding="utf-8")
    assert "version: 1.1.0" in installed
    assert bot_yaml.read_bytes() == (tmp_path / "kassel" / DISPATCHER / "bot.yaml").read_bytes()
    entry = open_catalog(project.catalog).entry(DISPATCHER)
    assert entry.installations["kassel"].version == "1.1.0"
    assert entry.installations["kassel"].into == str((tmp_path / "kassel").resolve())
    shown = bots("catalog", "show", DISPATCHER)
    assert f"kassel/{DISPATCHER}" in shown.output


@pytest.mark.browser
@pytest.mark.slow
def test_two_cities_export_their_posteingang_from_their_own_civento(
    project: Project, keys: Keys, tmp_path: Path
) -> None:
    """posteingang-export, unchanged, in Gießen and Marburg: each city's run logs into its own
    Civento (a sandbox each, with other cases) with its own account secret and writes the
    file its overlay names; both runs record the published digest."""
    from sandbox.server import running_sandbox
    from sandbox.state import read_state

    base = load_settings().sandbox.model_copy(update={"port": 0})
    cities = {
        "giessen": (base.model_copy(update={"cases": 3, "seed": 11}), "Gewerbeanmeldung"),
        "marburg": (base.model_copy(update={"cases": 5, "seed": 22}), "Alle"),
    }
    runs, expected = {}, {}
    for city, (sandbox, leistung) in cities.items():
        install("posteingang-export", "--tenant", city)
        with running_sandbox(tmp_path / f"sandbox-{city}", sandbox) as running:
            (project.root / "overlays" / city / "posteingang-export.yaml").write_text(
                f"bot: posteingang-export\nversion: 1.1.0\nfachamt: Bürgerbüro\n"
                f"targets: {{civento: '{running.civento_url}'}}\n"
                f"secrets: {{civento_password: {city.upper()}_CIVENTO}}\n"
                f"parameters: {{leistung: {leistung}, dateiname: {city}.csv}}\n",
                encoding="utf-8",
            )
            result = bots(
                "run",
                "posteingang-export",
                "--tenant",
                city,
                "--json",
                "--no-retry",
                env={f"BOTS_SECRET_{city.upper()}_CIVENTO": sandbox.password},
            )
        assert result.exit_code == 0, result.output
        runs[city] = json.loads(result.stdout)
        expected[city] = [
            v["nummer"]
            for v in read_state(tmp_path / f"sandbox-{city}")["vorgaenge"]
            if v["status"] == "Neu" and leistung in ("Alle", v["leistung"])
        ]

    published = open_catalog(project.catalog).entry("posteingang-export").versions[0].digest
    assert runs["giessen"]["digest"] == runs["marburg"]["digest"] == published
    assert expected["giessen"] != expected["marburg"]
    for city, run in runs.items():
        assert run["status"] == "succeeded", run["error"]
        assert run["parameters"]["dateiname"] == f"{city}.csv"
        rows = (Path(run["run_dir"]) / f"{city}.csv").read_text(encoding="utf-8-sig")
        numbers = [line.split(";")[0] for line in rows.splitlines()[1:]]
        assert numbers == expected[city]
