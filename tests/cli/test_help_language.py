"""``--help`` in the reader's language: French with ``--lang fr`` or ``PLACEMENT_LANG=fr``, for
every command and sub-command; English exactly as before (``help_en/``, captured from main
before the help was translated)."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer._click import Command, Context
from typer.main import get_command
from typer.testing import CliRunner

from cli import help as cli_help
from cli import stress as cli_stress
from cli.main import app
from placement.i18n import translator
from tests.placement.test_catalogue import catalogue_problems, french

HELP_EN = Path(__file__).with_name("help_en")
ROOT = get_command(app)


def _commands(
    command: Command = ROOT, ctx: Context | None = None, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Command, Context]]:
    """Every command and group of the app, with its words after ``placement`` and a context."""
    ctx = ctx or Context(command, info_name="placement")
    yield path, command, ctx
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, Context(sub, parent=ctx, info_name=name), (*path, name))


COMMANDS = [path for path, _, _ in _commands()]
#: the help option's own text, click's and typer's words, the usage line's placeholders
CLICK_WORDS = (
    cli_help.USAGE,
    cli_help.ARGUMENTS,
    cli_help.OPTIONS,
    cli_help.COMMANDS,
    cli_help.HELP_OPTION,
    cli_help.DEFAULT,
    cli_help.REQUIRED,
    cli_help.OPTIONS_METAVAR,
    cli_help.SUBCOMMAND_METAVAR,
)


def help_msgids() -> set[str]:
    """Every English text of the command line's help: each command's help (docstring or
    ``help=``), each parameter's ``help=``, and the words ``cli.help`` adds."""
    found = set(CLICK_WORDS)
    for _, command, ctx in _commands():
        if command.help:
            found.add(inspect.cleandoc(command.help))
        found.update(p.help for p in command.get_params(ctx) if getattr(p, "help", None))
    return found


def _name(path: tuple[str, ...]) -> str:
    return "-".join(("placement", *path))


def _help(args: list[str], lang_env: str = "") -> str:
    run = CliRunner().invoke(app, args, env={"PLACEMENT_LANG": lang_env}, prog_name="placement")
    assert run.exit_code == 0, run.output
    return run.output


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """``stress --workers`` defaults to the machine's cores: the reference says 2."""
    defaults = list(cli_stress.stress.__defaults__ or ())
    assert defaults[1] == (os.cpu_count() or 1)  # (draws, workers, cluster, json, report, lang)
    defaults[1] = 2
    monkeypatch.setattr(cli_stress.stress, "__defaults__", tuple(defaults))


def test_every_command_has_its_english_reference() -> None:
    assert {_name(p) for p in COMMANDS} == {f.stem for f in HELP_EN.glob("*.txt")}


@pytest.mark.parametrize("path", COMMANDS, ids=_name)
def test_english_help_is_unchanged(path: tuple[str, ...], two_cores: None) -> None:
    reference = (HELP_EN / f"{_name(path)}.txt").read_text()
    assert _help([*path, "--help"]) == reference
    assert _help(["--lang", "en", *path, "--help"], lang_env="fr") == reference


#: how many first words of a longer English text are looked for
FIRST_WORDS = 5


def _english_in(output: str, msgids: set[str]) -> list[str]:
    """The English texts found in a French help: whole (however the help wraps them), or the
    first ``FIRST_WORDS`` words of a longer one (a command's line in its group's list is cut)."""
    t = translator("fr")
    flat = _flat(output)
    found = []
    for msgid in msgids:
        if t.gettext(msgid) == msgid:  # "[OPTIONS]" is French too
            continue
        words = _flat(msgid).split(" ")
        english = " ".join(words[:FIRST_WORDS])
        if "{" not in english and english in flat:
            found.append(msgid)
    return found


@pytest.mark.parametrize("path", COMMANDS, ids=_name)
@pytest.mark.parametrize("how", ["--lang before", "PLACEMENT_LANG"])
def test_french_help_has_no_english_text(path: tuple[str, ...], how: str) -> None:
    if how == "PLACEMENT_LANG":
        output = _help([*path, "--help"], lang_env="fr")
    else:
        output = _help(["--lang", "fr", *path, "--help"])
    assert _english_in(output, help_msgids()) == [], output
    assert output.startswith("Utilisation : placement")
    command = next(c for p, c, _ in _commands() if p == path)
    french_help = _flat(cli_help.help_text(command, translator("fr")))
    assert french_help.split(" ")[0] in output
    assert "Afficher cette aide et quitter." in output


@pytest.mark.parametrize("path", [p for p in COMMANDS if p in {("solve",), ("stress",)}], ids=_name)
def test_a_commands_own_lang_sets_its_help_language(path: tuple[str, ...]) -> None:
    french = _help([*path, "--lang", "fr", "--help"])
    assert french.startswith("Utilisation : placement") and "[par défaut : " in french
    # the command's own --lang wins over the one given before it, and over PLACEMENT_LANG
    english = _help(["--lang", "fr", *path, "--lang=en", "--help"], lang_env="fr")
    assert english.startswith("Usage: placement") and "[default: " in english


def test_the_french_help_of_solve_says_every_click_word_the_french_way() -> None:
    output = _help(["--lang", "fr", "solve", "--help"])
    assert "\nArguments :\n" in output and "\nOptions :\n" in output
    assert "[obligatoire]" in output
    assert "[par défaut : 30.0 ; x>=0.1]" in _flat(output)  # values as they are typed
    assert "Commandes :" in _help(["--lang", "fr", "--help"])


def test_help_language_ignores_a_lang_given_to_an_earlier_command_in_the_process() -> None:
    # regression: `--lang en solve` (run earlier in the same process, as in these tests) left
    # its language to `cli.language`'s memory, and `PLACEMENT_LANG=fr solve --help` was English
    _help(["--lang", "en", "solve", "--help"], lang_env="fr")
    assert _help(["solve", "--help"], lang_env="fr").startswith("Utilisation : placement")


def test_a_language_the_product_does_not_speak_leaves_the_help_english() -> None:
    # the command refuses it when it runs (tests/cli/test_cli_language.py); its help stays
    assert _help(["--lang", "de", "--help"]).startswith("Usage: placement")


def test_every_help_text_has_a_french_translation() -> None:
    problems = catalogue_problems({m: ["cli --help"] for m in help_msgids()}, french())
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_help_text_without_translation() -> None:
    catalogue = french()
    missing = "Plan a scenario: who goes where, who could not be placed, why, and what would help."
    assert missing in help_msgids()
    del catalogue[missing]
    problems = catalogue_problems({m: ["cli --help"] for m in help_msgids()}, catalogue)
    assert len(problems) == 1 and "no French translation" in problems[0]


def test_a_group_given_no_command_shows_its_help_in_french() -> None:
    # the console script itself: no_args_is_help goes through cli.usage's error handling
    run = subprocess.run(
        [sys.executable, "-m", "cli", "users"],
        capture_output=True,
        text=True,
        env={**os.environ, "PLACEMENT_LANG": "fr"},
        timeout=60,
    )
    shown = run.stdout + run.stderr
    assert "Utilisateurs et jetons d'accès du service." in shown, shown
    assert "Commandes :" in shown and "Commands:" not in shown
