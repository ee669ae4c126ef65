"""The help (``--help``) in the reader's language: ``--lang`` (the command's, else the one given
before it), else ``PLACEMENT_LANG``, else English, as every other output of the command line.

typer builds a command's help texts (its docstring, each option's ``help=``) when the program
starts, in English, and its copy of click (``typer._click``) writes its own words ("Usage:",
"Options:", "Show this message and exit.", "[default: ...]") as plain strings. So
:class:`HelpCommand` and :class:`HelpGroup` (each command's and group's ``cls=``) write the
help themselves, at the moment it is shown: every text goes through the ``engine``
catalogue, whose message ids are those English texts. ``--help`` is read before ``--lang``
(click handles it first), so the language is taken from the command line's words as each
command parses them (:func:`stated_language`).

Only click's plain help is translated: the app is built with ``rich_markup_mode=None``, so
typer never takes its rich help path. Metavars (``FILE``, ``<float range>``), ranges
(``x>=0.1``) and default values are what a user types, so they stay as they are.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import typer
from typer._click import Command, Context, HelpFormatter, Parameter
from typer._click.utils import make_default_short_help
from typer.core import TyperCommand, TyperGroup

from cli.language import cli_translator, env_translator
from placement.i18n import N_, Translator
from placement.text import ENGLISH

#: where a command puts the ``--lang`` it was given, for the help of its sub-commands too
#: (click shares a context's ``meta`` with its children)
LANG_KEY = "placement.lang"

#: click's and typer's own words in a help page, as catalogue messages
USAGE = N_("Usage:")
#: a section's heading with its colon (click adds ":", French writes " :")
ARGUMENTS = N_("Arguments:")
OPTIONS = N_("Options:")
COMMANDS = N_("Commands:")
DEFAULT = N_("default: {default}")
REQUIRED = N_("required")
#: the help option's own help (click's text, exactly)
HELP_OPTION = N_("Show this message and exit.")
#: the usage line's placeholders (click's ``options_metavar``, typer's ``subcommand_metavar``)
OPTIONS_METAVAR = N_("[OPTIONS]")
SUBCOMMAND_METAVAR = N_("COMMAND [ARGS]...")


def stated_language(args: Sequence[str]) -> str | None:
    """The first ``--lang X`` (or ``--lang=X``) among a command's words, before any ``--``."""
    for i, arg in enumerate(args):
        if arg == "--":
            return None
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def help_translator(ctx: Context) -> Translator:
    """The reader's language for this command's help; English when ``--lang`` names a language
    the product does not speak (that error is said when the command runs, not in its help)."""
    lang = ctx.meta.get(LANG_KEY)
    try:
        # not cli_translator(None): the --lang remembered by a command run before in this
        # process (tests) is not this command line's; its own words are all in ``meta``
        return env_translator() if lang is None else cli_translator(lang)
    except typer.BadParameter:
        return ENGLISH


def help_text(command: Command, t: Translator) -> str:
    """A command's help (its docstring, or ``help=``) in ``t``'s language, up to a form feed."""
    if not command.help:
        return ""
    return inspect.cleandoc(t.gettext(inspect.cleandoc(command.help))).partition("\f")[0]


def short_help(command: Command, t: Translator, limit: int) -> str:
    """A command's line in its group's list: its help's first sentence, cut at ``limit``."""
    if command.short_help:
        return t.gettext(inspect.cleandoc(command.short_help)).strip()
    return make_default_short_help(help_text(command, t), limit).strip()


def help_record(param: Parameter, ctx: Context, t: Translator) -> tuple[str, str] | None:
    """A parameter's line (``--workers <int range>``, its help ``[default: 1; 1<=x<=64]``), the
    help and click's words in ``t``'s language, from typer's own line."""
    record = param.get_help_record(ctx)
    if record is None:
        return None
    name, line = record
    own = getattr(param, "help", None) or ""
    extra = line[len(own) :].strip() if line.startswith(own) else ""
    text = t.gettext(own) if own else ""
    if extra.startswith("[") and extra.endswith("]"):
        extra = f"[{_extra(extra[1:-1], t)}]"
    return name, f"{text}  {extra}" if text and extra else text or extra


def _extra(inner: str, t: Translator) -> str:
    """``default: 30.0; x>=0.1; required`` with its words in ``t``'s language."""
    parts = []
    for part in inner.split("; "):
        if part.startswith("default: "):
            part = t.gettext(DEFAULT, default=part.removeprefix("default: "))
        elif part == "required":
            part = t.gettext(REQUIRED)
        parts.append(part)
    text = parts[0]
    for part in parts[1:]:
        text = t.gettext("{list}; {item}", list=text, item=part)
    return text


@contextmanager
def _section(formatter: HelpFormatter, heading: str) -> Iterator[None]:
    """click's ``formatter.section``, with the heading written as the catalogue says it."""
    formatter.write_paragraph()
    formatter.write(f"{'':>{formatter.current_indent}}{heading}\n")
    formatter.indent()
    try:
        yield
    finally:
        formatter.dedent()


class _LocalizedHelp(Command):
    """The help of a command or a group, written in the reader's language."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        lang = stated_language(args)
        if lang is not None:
            ctx.meta[LANG_KEY] = lang
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        t = help_translator(ctx)
        words = {OPTIONS_METAVAR: t.gettext(OPTIONS_METAVAR)}
        words[SUBCOMMAND_METAVAR] = t.gettext(SUBCOMMAND_METAVAR)
        return [words.get(piece, piece) for piece in super().collect_usage_pieces(ctx)]

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        prefix = help_translator(ctx).gettext(USAGE) + " "
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix)

    def format_help_text(self, ctx: Context, formatter: HelpFormatter) -> None:
        text = help_text(self, help_translator(ctx))
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        t = help_translator(ctx)
        rows: dict[str, list[tuple[str, str]]] = {"argument": [], "option": []}
        for param in self.get_params(ctx):
            record = help_record(param, ctx, t)
            if record is not None and param.param_type_name in rows:
                rows[param.param_type_name].append(record)
        for kind, heading in (("argument", ARGUMENTS), ("option", OPTIONS)):
            if rows[kind]:
                with _section(formatter, t.gettext(heading)):
                    formatter.write_dl(rows[kind])


class HelpCommand(_LocalizedHelp, TyperCommand):
    """A typer command whose ``--help`` is in the reader's language."""


class HelpGroup(_LocalizedHelp, TyperGroup):
    """A typer group whose ``--help`` (its options, then its commands) is in the reader's
    language (typer does not give its commands this group's class: each says
    ``cls=HelpCommand``)."""

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        t = help_translator(ctx)
        commands = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                commands.append((name, command))
        if not commands:
            return
        # as click: the commands' lines get the width their longest name leaves
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = [(name, short_help(command, t, limit)) for name, command in commands]
        with _section(formatter, t.gettext(COMMANDS)):
            formatter.write_dl(rows)
