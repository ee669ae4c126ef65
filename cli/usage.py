"""A usage error of the command line (an unknown option, a missing argument, a bad value) in
the reader's language.

click wraps its texts in gettext, but typer (0.29) runs on its own copy of click
(``typer._click``) whose texts are plain f-strings: there is no gettext call to give a
catalogue to. So :func:`run` runs the app without click's standalone handling and shows a
usage error itself: in English exactly as click does (``UsageError.show``), in French from
the error's own fields (the option, the parameter and its value's problem, the extra
arguments) with messages of the ``engine`` catalogue. The help (``--help``) stays English.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import typer
from pydantic import ValidationError
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)

from cli.language import cli_translator
from placement.i18n import N_, SOURCE_LOCALE, Translator
from placement.problems import validation_problems
from placement.text import ENGLISH, render

#: what is missing, by click's name for its kind
MISSING = {
    "argument": N_("Missing argument {name}."),
    "option": N_("Missing option {name}."),
}
MISSING_PARAMETER = N_("Missing parameter {name}.")
#: click's own texts (plain f-strings) a user meets, read back as catalogue messages
CLICK_TEXTS = (
    (r"Got unexpected extra argument\(s\) \((?P<arguments>.*)\)",
     N_("Got unexpected extra arguments ({arguments})")),
    (r"No such command (?P<name>.*)\.", N_("No such command {name}.")),
    (r"(?P<value>.*) is not one of (?P<choices>.*)\.", N_("{value} is not one of {choices}.")),
    (r"Option (?P<option>.*) does not take a value\.",
     N_("Option {option} does not take a value.")),
    (r"Option (?P<option>.*) requires an argument\.", N_("Option {option} requires a value.")),
    (r"Option (?P<option>.*) requires (?P<n>\d+) arguments\.",
     N_("Option {option} requires {n} values.")),
)  # fmt: skip
_CLICK_TEXTS = [(re.compile(pattern, re.DOTALL), msgid) for pattern, msgid in CLICK_TEXTS]


def click_text(text: str, t: Translator) -> str:
    """One of click's texts in ``t``'s language (one not in ``CLICK_TEXTS``: as it is)."""
    for pattern, msgid in _CLICK_TEXTS:
        found = pattern.fullmatch(text)
        if found:
            return t.gettext(msgid, **found.groupdict())
    return text


def run(app: typer.Typer) -> None:
    """Run the command line; a usage error is shown in the reader's language (exit code 2)."""
    try:
        code = app(standalone_mode=False)
    except UsageError as e:
        show_usage_error(e, _reader(e))
        sys.exit(e.exit_code)
    except ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except typer.Abort:
        typer.echo(_reader().gettext("Aborted!"), err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _reader(e: UsageError | None = None) -> Translator:
    """The reader's language: a ``--lang`` click read before the error (the command's, else
    ``placement --lang``), else ``PLACEMENT_LANG``, else English; English too when the
    language given is itself the error."""
    ctx = None if e is None else e.ctx
    lang = None
    while ctx is not None and lang is None:
        lang = ctx.params.get("lang")
        ctx = ctx.parent
    try:
        return cli_translator(lang)
    except typer.BadParameter:
        return ENGLISH


def show_usage_error(e: UsageError, t: Translator) -> None:
    """``Usage: ...``, ``Try '... --help' for help.`` and ``Error: ...`` on stderr."""
    if t.locale == SOURCE_LOCALE or isinstance(e, NoArgsIsHelpError):
        e.show()  # click's own words (the help, for a command given nothing)
        return
    lines = []
    if e.ctx is not None:
        pieces = " ".join(e.ctx.command.collect_usage_pieces(e.ctx))
        lines.append(
            t.gettext("Usage: {command} {arguments}", command=e.ctx.command_path, arguments=pieces)
        )
        if e.ctx.command.get_help_option(e.ctx) is not None:
            option = e.ctx.help_option_names[0]
            hint = t.gettext(
                "Try '{command} {option}' for help.", command=e.ctx.command_path, option=option
            )
            lines.append(hint)
        lines.append("")
    lines.append(t.gettext("Error: {problem}", problem=problem(e, t)))
    typer.echo("\n".join(lines), err=True)


def problem(e: UsageError, t: Translator) -> str:
    """What is wrong, in ``t``'s language (a text click has that is not here: as it is)."""
    if isinstance(e, NoSuchOption):
        text = t.gettext("No such option: {option}", option=e.option_name)
        if not e.possibilities:
            return text
        options = ", ".join(sorted(e.possibilities))
        return t.gettext("{problem} (Possible options: {options})", problem=text, options=options)
    if isinstance(e, MissingParameter):
        kind = e.param_type or (e.param.param_type_name if e.param is not None else "")
        return t.gettext(MISSING.get(kind, MISSING_PARAMETER), name=_hint(e))
    if isinstance(e, BadParameter):
        return _bad_value(e, t)
    return click_text(e.message, t)


def _bad_value(e: BadParameter, t: Translator) -> str:
    """``Invalid value for '--time-limit': ...``: the value's problem from pydantic's error
    (typer checks values with pydantic) as the catalogue says it, else click's text."""
    cause = e.__cause__
    if isinstance(cause, ValidationError):
        found = "; ".join(click_text(render(text, t), t) for _, text in validation_problems(cause))
    else:
        found = click_text(e.message, t)
    hint = _hint(e)
    if not hint:
        return t.gettext("Invalid value: {problem}", problem=found)
    return t.gettext("Invalid value for {parameter}: {problem}", parameter=hint, problem=found)


def _hint(e: BadParameter) -> str:
    """The parameter as click names it in an error (``'file'``, ``'--time-limit'``)."""
    hint: Sequence[str] | str | None = e.param_hint
    if hint is None and e.param is not None:
        hint = e.param.get_error_hint()
    if hint is None:
        return ""
    if isinstance(hint, str):
        return hint
    return " / ".join(f"'{h}'" for h in hint)
