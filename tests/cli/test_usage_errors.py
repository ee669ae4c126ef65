"""Usage errors of the command line (click's, through typer) in the reader's language."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: the console script (its name is the program's name in click's usage line)
PLACEMENT = Path(sys.executable).with_name("placement")

#: click's English words: none may be left in a French usage error
ENGLISH = (
    "Usage", "Try", "for help", "Error", "Missing", "No such", "Invalid value", "unexpected",
    "extra", "requires", "does not take", "is not one of",
)  # fmt: skip


def _placement(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PLACEMENT_LANG"}
    return subprocess.run(
        [str(PLACEMENT), *args],
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "french"),
    [
        (["--lang", "fr", "solve", "a", "b"], "Erreur : Arguments en trop inattendus (b)"),
        (["--lang", "fr", "solve", "--bogus"], "Erreur : Option inconnue : --bogus"),
        (["--lang", "fr", "solve"], "Erreur : Argument manquant : 'file'."),
        (["--lang", "fr", "solve", "x", "--time-limit", "abc"],
         "Valeur non valide pour '--time-limit' : La valeur doit être un nombre"),
        (["--lang", "fr", "solve", "x", "--solver", "foo"],
         "'foo' n'est pas l'une des valeurs 'cpsat', 'greedy'."),
        (["--lang", "fr", "solve", "x", "--time-limit"],
         "L'option '--time-limit' demande une valeur."),
        (["--lang", "fr", "bogus"], "Erreur : Commande inconnue : 'bogus'."),
        (["solve", "a", "b", "--lang", "fr"], "Arguments en trop inattendus (b)"),  # after
    ],
)  # fmt: skip
def test_a_usage_error_reads_in_french(args: list[str], french: str) -> None:
    run = _placement(*args)
    assert run.returncode == 2, run.stderr
    assert french in run.stderr, run.stderr
    left = [word for word in ENGLISH if word in run.stderr]
    assert not left, run.stderr


def test_placement_lang_gives_french_usage_errors_too() -> None:
    run = _placement("solve", "a", "b", env={"PLACEMENT_LANG": "fr"})
    assert run.returncode == 2
    assert run.stderr.startswith("Utilisation : placement solve [OPTIONS] {file}\n")
    assert "Essayer « placement solve --help » pour l'aide." in run.stderr


def test_an_english_usage_error_is_clicks_own() -> None:
    run = _placement("solve", "a", "b")
    assert run.returncode == 2
    assert run.stderr == (
        "Usage: placement solve [OPTIONS] {file}\n"
        "Try 'placement solve --help' for help.\n"
        "\n"
        "Error: Got unexpected extra argument(s) (b)\n"
    )
