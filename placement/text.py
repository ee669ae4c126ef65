"""Messages kept as data, rendered in the reader's language when they are shown.

The engine's reasons, relaxations, rule requirements and scenario errors are built as
:class:`Text` values: a catalogue message id (the English source text with ``{named}``
parameters, see :mod:`placement.i18n`) and its parameters. A ``Text`` is JSON (a plan stored
by the service keeps it), and is rendered for one reader by :meth:`Text.render` or
:func:`render`::

    render(unplaced.reason_texts[0], "fr")   # "plein : aucune place libre du ..."

Parameters are numbers (written the reader's way: ``1 234``), plain strings (identifiers,
shown as they are), :class:`Date` (a date: ``12 mars 2026``), :class:`Language` (a language
tag, shown by its name: ``pidgin nigérian``), :class:`Items` (a list, joined the reader's
way), :class:`Number` (a number with a fixed pattern: ``0,42`` seconds) or another
``Text``. Mark the message where it is written with :func:`message` or :func:`plural_message`:
the catalogue test extracts them.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Tag

from placement.i18n import SOURCE_LOCALE, Translator, translator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Date(_Frozen):
    """A date parameter, written as the reader's language writes dates."""

    day: date


class Language(_Frozen):
    """A language tag parameter, shown by the language's name in the reader's language."""

    language: str


class Number(_Frozen):
    """A number written with a Babel pattern (``0.00``: two decimals, no grouping), the
    reader's way (``0.42`` / ``0,42``)."""

    value: float
    format: str


Join = Literal["and", "or", "comma", "semicolon"]


class Items(_Frozen):
    """A list parameter: ``and`` (``a, b and c`` / ``a, b et c``), ``or``, or plain
    separators (``comma``: ``a, b, c``; ``semicolon``: ``a; b; c``)."""

    items: tuple[Param, ...]
    join: Join = "comma"


#: the kind of each parameter model but the message itself (see :func:`_kind`)
_KINDS: dict[type, str] = {Date: "day", Language: "language", Number: "format", Items: "items"}


def _kind(value: Any) -> str:
    """Which kind of parameter ``value`` is (read from JSON: an object by its keys)."""
    if isinstance(value, dict):
        for key in ("msgid", "day", "language", "format", "items"):
            if key in value:
                return key
        return "msgid"  # no kind: a message's errors are the clearest
    if isinstance(value, str):
        return "str"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return _KINDS.get(type(value), "msgid")


#: what a parameter of a message may be (a bool is not one: say it in the message). Its
#: kind is told by its type, and an object's by its keys, instead of trying every kind in
#: turn: at 3,000 x 6,000 hard, reading a plan of 980 unplaced took 0.13 s instead of 0.50
Param = Annotated[
    Union[  # noqa: UP007 - forward refs
        Annotated[str, Tag("str")],
        Annotated[int | float, Tag("number")],
        Annotated["Text", Tag("msgid")],
        Annotated[Date, Tag("day")],
        Annotated[Language, Tag("language")],
        Annotated[Number, Tag("format")],
        Annotated[Items, Tag("items")],
    ],
    Discriminator(_kind),
]


class Text(_Frozen):
    """A message of the catalogue with its parameters, not yet in any language.

    ``msgid``: the English source text; ``plural`` and ``n`` for a message whose wording
    depends on a count (``n`` is also the parameter ``{n}``).
    """

    msgid: str
    plural: str | None = None
    n: int | None = None
    params: dict[str, Param] = {}

    def render(self, t: Translator) -> str:
        """This message in ``t``'s language, its parameters written the same way."""
        params = {k: _param(v, t) for k, v in self.params.items()}
        if self.plural is not None:
            return t.ngettext(self.msgid, self.plural, self.n or 0, **params)
        return t.gettext(self.msgid, **params)

    def __str__(self) -> str:
        """The English text (logs, developers' checks)."""
        return self.render(ENGLISH)


Items.model_rebuild()
Text.model_rebuild()

ENGLISH = translator(SOURCE_LOCALE)
"""The translator of the source language: texts rendered where no reader is known."""


def _param(value: Param, t: Translator) -> str:
    if type(value) is str:  # identifiers, the most frequent parameter
        return value
    if isinstance(value, Text):
        return value.render(t)
    if isinstance(value, Date):
        return t.date(value.day)
    if isinstance(value, Language):
        return t.language_name(value.language)
    if isinstance(value, Number):
        return t.number(value.value, value.format)
    if isinstance(value, Items):
        return _items(value, t)
    if isinstance(value, bool):
        raise TypeError("a bool is not a message parameter")
    if isinstance(value, int | float):
        return t.number(value)
    return value


def _items(value: Items, t: Translator) -> str:
    parts = [_param(v, t) for v in value.items]
    if value.join in ("and", "or"):
        return t.join(parts, "and" if value.join == "and" else "or")
    if value.join == "comma" or not parts:
        return ", ".join(parts)
    text = parts[0]
    for part in parts[1:]:  # French puts a space before a semicolon
        text = t.gettext("{list}; {item}", list=text, item=part)
    return text


def _plain(params: dict[str, Param]) -> dict[str, Param]:
    """The parameters with numpy numbers as Python ones. The helpers below build a Text
    without pydantic's validation (thousands per plan): the code's types are trusted."""
    return {
        k: v
        if isinstance(v, str | Text | Date | Language | Number | Items)
        else int(v)
        if isinstance(v, numbers.Integral)
        else float(v)
        for k, v in params.items()
    }


def listed(values: Iterable[Param], join: Join = "comma") -> Items:
    """A list parameter (built without validation, as :func:`message` builds a Text)."""
    return Items.model_construct(items=tuple(_plain({"": v})[""] for v in values), join=join)


def day(d: date) -> Date:
    """A date parameter."""
    return Date.model_construct(day=d)


def number(value: float, format: str) -> Number:  # noqa: A002 - Babel's name
    """A number parameter written with the Babel pattern ``format`` (``0.00``)."""
    return Number.model_construct(value=float(value), format=format)


def language(tag: str) -> Language:
    """A language parameter (shown by its name)."""
    return Language.model_construct(language=tag)


def message(msgid: str, /, **params: Param) -> Text:
    """A message to render later: ``message("full: {free}", free=...)``."""
    return Text.model_construct(msgid=msgid, plural=None, n=None, params=_plain(params))


def plural_message(singular: str, plural: str, n: int, /, **params: Param) -> Text:
    """A message whose wording depends on the count ``n`` (available as ``{n}``)."""
    return Text.model_construct(msgid=singular, plural=plural, n=int(n), params=_plain(params))


def render(value: Text | str | None, locale: str | Translator = SOURCE_LOCALE) -> str:
    """A message (or an already rendered string, or nothing) in ``locale``: the one function
    templates call (``{{ render(u.reason_texts[0], lang) }}``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    t = locale if isinstance(locale, Translator) else translator(locale)
    return value.render(t)


def label(msgid: str, locale: str | Translator = SOURCE_LOCALE) -> str:
    """A catalogue label (a rule's name ``RULE_LABELS[...]``, a relaxation's kind
    ``RELAXATION_KINDS[...]``, ``STATUS_LABELS``, ``LANGUAGE_MATCH_LABELS``) in ``locale``."""
    t = locale if isinstance(locale, Translator) else translator(locale)
    return t.gettext(msgid)
