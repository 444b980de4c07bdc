"""`bots catalog diff`: what changed between two versions, told as a reviewer reads it."""

from __future__ import annotations

from orchestrator.catalog.diff import diff_lines, diff_versions

OLD_BOT = b"""\
id: x
version: 1.0.0
steps:
  - use: civento.anmelden
  - name: Sammeln
    use: civento.posteingang_lesen
    with: {status: [Neu]}
    into: vorgaenge
  - for_each: "{{ vorgaenge }}"
    do:
      - call: hooks:zaehlen
      - pause: 1
  - use: civento.abmelden
"""
NEW_BOT = b"""\
id: x
version: 1.1.0
steps:
  - set: {beginn: jetzt}
  - use: civento.anmelden
  - name: Sammeln
    use: civento.posteingang_lesen
    with: {status: [Neu, In Bearbeitung]}
    into: vorgaenge
  - for_each: "{{ vorgaenge }}"
    do:
      - call: hooks:zaehlen
  - use: civento.status_setzen
  - use: civento.abmelden
"""
OLD_HOOKS = b"""\
def zaehlen(context):
    return 1


def alt(context):
    return None
"""
NEW_HOOKS = b"""\
# Zaehlt die Vorgaenge.
def zaehlen(context):
    return 2


def neu(context):
    return None
"""
LOGIN = b"description: Anmelden\nsteps:\n  - use: civento.anmelden\n"


def test_a_reviewer_reads_steps_actions_hooks_and_files() -> None:
    old = {
        "bot.yaml": OLD_BOT,
        "hooks.py": OLD_HOOKS,
        "flows/login.yaml": LOGIN,
        "testdaten/a.csv": b"a;b\n",
    }
    new = {
        "bot.yaml": NEW_BOT,
        "hooks.py": NEW_HOOKS,
        "flows/login.yaml": b"# Nur ein Kommentar\n" + LOGIN,
        "testdaten/a.csv": b"a;b;c\n",
        "testdaten/b.csv": b"x\n",
    }

    assert diff_lines(diff_versions(old, new)) == [
        "steps:",
        "  + bot.yaml steps[0]: set",
        "  ~ bot.yaml steps[2] (was steps[1]): use 'Sammeln'; changed: with",
        "  - bot.yaml steps[2].do[1]: pause",
        "  + bot.yaml steps[4]: use",
        "connector actions used:",
        "  + civento.status_setzen",
        "hook functions:",
        "  - hooks.py: alt",
        "  + hooks.py: neu",
        "  ~ hooks.py: zaehlen",
        "definition:",
        "  ~ bot.yaml: version (1.0.0 -> 1.1.0)",
        "files:",
        "  ~ flows/login.yaml (comments or layout only)",
        "  ~ testdaten/a.csv",
        "  + testdaten/b.csv",
    ]


def test_moved_steps_are_not_changed_steps() -> None:
    steps = b"  - use: civento.anmelden\n  - use: civento.abmelden\n"
    old = {"bot.yaml": b"id: x\nsteps:\n" + steps}
    new = {"bot.yaml": b"id: x\nsteps:\n  - pause: 1\n" + steps}
    changes = diff_versions(old, new)
    assert [(s.change, s.path, s.kind) for s in changes.steps] == [("added", "steps[0]", "pause")]
    assert not changes.actions_added and not changes.actions_removed


def test_a_new_sub_flow_and_a_removed_action() -> None:
    old = {"bot.yaml": b"id: x\nsteps:\n  - use: civento.anmelden\n"}
    new = {
        "bot.yaml": b"id: x\nsteps:\n  - include: flows/login.yaml\n",
        "flows/login.yaml": b"steps:\n  - use: gewerberegister.anmelden\n",
    }
    lines = diff_lines(diff_versions(old, new))
    assert "  ~ bot.yaml steps[0]: use; changed: use" not in lines  # different kinds
    assert "  - bot.yaml steps[0]: use" in lines
    assert "  + bot.yaml steps[0]: include" in lines
    assert "  + flows/login.yaml steps[0]: use" in lines
    assert lines[lines.index("connector actions used:") + 1 :][:2] == [
        "  + gewerberegister.anmelden",
        "  - civento.anmelden",
    ]
    assert "  + flows/login.yaml" in lines


def test_the_same_files_have_no_differences() -> None:
    files = {"bot.yaml": OLD_BOT, "hooks.py": OLD_HOOKS}
    changes = diff_versions(files, dict(files))
    assert changes.empty
    assert diff_lines(changes) == ["no differences: the two versions have the same files"]


def test_a_hook_file_changed_outside_its_functions() -> None:
    old = {"hooks.py": b"import re\n\n\ndef f():\n    pass\n"}
    new = {"hooks.py": b"import json\n\n\ndef f():\n    pass\n"}
    assert diff_lines(diff_versions(old, new)) == [
        "hook functions:",
        "  ~ hooks.py: (outside its functions)",
    ]
