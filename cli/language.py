"""The language the command line writes in: ``--lang``, else ``PLACEMENT_LANG``, else English.

English is the command line's default (unlike the web pages, which default to French): its
output is read by scripts and pasted into issues as often as it is read by coordinators, and
``--json`` stays English unless asked. ``--help`` follows the same choice (``cli.help``).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from placement.i18n import LOCALES, SOURCE_LOCALE, Translator, check_locale, translator

#: the environment variable that sets the command line's language
ENV = "PLACEMENT_LANG"
#: the command line's language when neither ``--lang`` nor ``PLACEMENT_LANG`` says one
CLI_DEFAULT = SOURCE_LOCALE

LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        metavar="|".join(LOCALES),
        help=f"language of the output ({', '.join(LOCALES)}); default: ${ENV}, else en",
    ),
]

_chosen: list[str] = []  # the ``placement --lang`` given before the command, if any


def choose(lang: str | None) -> None:
    """Remember the language given before the command (``placement --lang fr users ...``),
    or that none was (a command run earlier in the same process chose for itself only)."""
    _chosen[:] = [] if lang is None else [_checked(lang, "--lang")]


def cli_translator(lang: str | None = None) -> Translator:
    """The translator for this command: ``lang`` (a command's own ``--lang``), else the one
    chosen before the command, else ``PLACEMENT_LANG``, else English. A language the product
    does not speak is refused (exit code 2) naming the choices."""
    if lang is not None:
        return translator(_checked(lang, "--lang"))
    if _chosen:
        return translator(_chosen[0])
    return env_translator()


def env_translator() -> Translator:
    """The translator ``PLACEMENT_LANG`` asks for, else English's."""
    env = os.environ.get(ENV, "").strip()
    return translator(_checked(env, ENV) if env else CLI_DEFAULT)


def _checked(lang: str, where: str) -> str:
    try:
        return check_locale(lang.lower().split("-")[0].split("_")[0])
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint=where) from None
