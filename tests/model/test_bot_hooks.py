"""Hooks named by ``call`` steps must exist and accept the arguments the step passes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.model import HookNotFound, load_bot, resolve_hook, validate_paths

from bot_files import WriteBot

Problems = Callable[[Path], list[str]]

CALL = """\
steps:
  - call: {ref}
    with: {{rechtsform: GmbH}}
"""


def test_a_fitting_hook_passes(write_bot: WriteBot) -> None:
    hooks = "def map_rechtsform(ctx, rechtsform, land='DE'):\n    return rechtsform\n"
    bot = write_bot("demo", CALL.format(ref="hooks:map_rechtsform"), files={"hooks.py": hooks})
    load_bot(bot)
    function = resolve_hook(bot, "hooks:map_rechtsform", "demo")
    assert function(None, rechtsform="GmbH") == "GmbH"


def test_missing_module(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot("demo", CALL.format(ref="hooks:map_rechtsform"))
    assert problems_of(bot) == [
        "demo/bot.yaml:6:11: hook module 'hooks' not found (no hooks.py in the bot directory, "
        "and none on the Python path)"
    ]


def test_missing_function(write_bot: WriteBot, problems_of: Problems) -> None:
    hooks = "def map_rechtsformen(ctx, rechtsform):\n    pass\n"
    bot = write_bot("demo", CALL.format(ref="hooks:map_rechtsform"), files={"hooks.py": hooks})
    assert problems_of(bot) == [
        "demo/bot.yaml:6:11: hooks.py has no function 'map_rechtsform' "
        "(did you mean 'map_rechtsformen'?)"
    ]


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("()", ["6:11: hook hooks:f must take the run context as its first parameter"]),
        ("(ctx)", ["7:12: hook hooks:f takes no argument 'rechtsform' (its arguments: none)"]),
        (
            "(ctx, form, land)",
            [
                "6:11: hook hooks:f needs argument 'form'; add it under 'with'",
                "6:11: hook hooks:f needs argument 'land'; add it under 'with'",
                "7:12: hook hooks:f takes no argument 'rechtsform' (its arguments: form, land)",
            ],
        ),
        ("(ctx, **kwargs)", []),
        ("(ctx, /, rechtsform)", []),
        ("(*args, rechtsform)", []),
    ],
)
def test_hook_signature_must_fit_the_call(
    write_bot: WriteBot, signature: str, expected: list[str]
) -> None:
    bot = write_bot(
        "demo", CALL.format(ref="hooks:f"), files={"hooks.py": f"def f{signature}:\n    pass\n"}
    )
    errors = [str(p) for p in validate_paths([bot]) if p.severity == "error"]
    assert errors == [f"demo/bot.yaml:{e}" for e in expected]


def test_an_import_error_in_the_hook_module_is_one_line(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    hooks = "import os\n\nVALUE = undefined_name\n"
    bot = write_bot("demo", CALL.format(ref="hooks:f"), files={"hooks.py": hooks})
    assert problems_of(bot) == [
        "demo/bot.yaml:6:11: importing hooks.py failed: NameError: name 'undefined_name' is not "
        "defined (hooks.py line 3)"
    ]


def test_a_syntax_error_in_the_hook_module(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot("demo", CALL.format(ref="hooks:f"), files={"hooks.py": "def f(ctx:\n"})
    [problem] = problems_of(bot)
    assert problem.startswith("demo/bot.yaml:6:11: importing hooks.py failed: SyntaxError: ")
    assert problem.endswith("(hooks.py line 1)")


def test_hooks_in_sub_packages_and_relative_imports(write_bot: WriteBot) -> None:
    bot = write_bot(
        "demo",
        CALL.format(ref="lib.rechtsformen:kurz"),
        files={
            "lib/__init__.py": "",
            "lib/tabelle.py": "KURZ = {'GmbH': 'G'}\n",
            "lib/rechtsformen.py": "from .tabelle import KURZ\n\n"
            "def kurz(ctx, rechtsform):\n    return KURZ[rechtsform]\n",
        },
    )
    load_bot(bot)
    assert resolve_hook(bot, "lib.rechtsformen:kurz", "demo")(None, rechtsform="GmbH") == "G"


def test_hooks_on_the_python_path(write_bot: WriteBot) -> None:
    bot = write_bot("demo", CALL.format(ref="textwrap:dedent"))
    with pytest.raises(HookNotFound, match="has no function 'nope'"):
        resolve_hook(bot, "textwrap:nope", "demo")
    assert resolve_hook(bot, "textwrap:dedent", "demo")("  x") == "x"


def test_bots_with_the_same_module_name_do_not_share_it(write_bot: WriteBot) -> None:
    first = write_bot("first", "steps: []", files={"hooks.py": "def name(ctx):\n    return 1\n"})
    second = write_bot("second", "steps: []", files={"hooks.py": "def name(ctx):\n    return 2\n"})
    one, two = resolve_hook(first, "hooks:name", "first"), resolve_hook(second, "hooks:name", "x")
    assert (one(None), two(None)) == (1, 2)
    assert one.__module__ != two.__module__
    assert "hooks" not in sys.modules
    assert not list(first.glob("__pycache__"))  # the bot directory stays as it was


def test_a_changed_hook_file_is_imported_again(write_bot: WriteBot) -> None:
    bot = write_bot("demo", "steps: []", files={"hooks.py": "def f(ctx):\n    return 1\n"})
    assert resolve_hook(bot, "hooks:f", "demo")(None) == 1
    (bot / "hooks.py").write_text("def f(ctx):\n    return 'two'\n")
    assert resolve_hook(bot, "hooks:f", "demo")(None) == "two"
