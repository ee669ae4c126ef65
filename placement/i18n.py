"""The message catalogue: every text a user reads, in French and in English.

Texts are gettext messages (Babel). The source text of a message is its English wording with
named ``{parameters}``; the French wording lives in a ``.po`` file of a *domain*:

- ``engine`` (``placement/locale``): the engine's reasons, relaxations, rule names and errors,
  and the command line's texts;
- other packages ship their own domain beside their code (the web pages' ``web`` domain), so
  that two parts of the tree never edit the same catalogue.

Mark a message where it is written with :func:`N_` (or ``gettext`` / ``ngettext`` in a function
that has a :class:`Translator`, or :func:`placement.text.message` for an engine text kept as
data in a plan and rendered for each reader later), so that
``tests/placement/test_catalogue.py`` can extract every message and fail on one that has no
French translation. Render it with
``translator(locale, domain).gettext(msgid, **params)``.

The ``.po`` files are read as they are (no compiled ``.mo`` in the tree): a catalogue is
compiled in memory the first time a process uses it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations
from langcodes import Language, LanguageTagError, tag_is_valid

LOCALES: tuple[str, ...] = ("fr", "en")
"""The languages every text exists in, in order of preference for this product's users."""

SOURCE_LOCALE = "en"
"""The language of the message ids (the source texts)."""

DEFAULT_LOCALE = "fr"
"""The language of a reader who has stated none and whose browser asks for none we have."""

ENGINE = "engine"
"""The domain of the engine's and the command line's messages."""

_DIRECTORIES: dict[str, Path] = {ENGINE: Path(__file__).with_name("locale")}
#: domains whose messages are kept as :class:`placement.text.Text` values beside the engine's:
#: the engine's translator falls back on their catalogues
_TEXT_DOMAINS: list[str] = []


def register_domain(domain: str, directory: Path, texts: bool = False) -> None:
    """Make the catalogue of ``domain`` (``directory/<locale>/LC_MESSAGES/<domain>.po``) known.

    ``texts``: the domain's messages are :class:`placement.text.Text` values too (the
    service's refusals), rendered wherever the engine's are: the translator of every other
    domain (the engine's first) looks them up in this catalogue after its own."""
    _DIRECTORIES[domain] = directory
    if texts and domain not in _TEXT_DOMAINS:
        _TEXT_DOMAINS.append(domain)
        _translations.cache_clear()  # an engine catalogue compiled before lacks the fallback


def catalogue_path(domain: str, locale: str) -> Path:
    """Where the ``.po`` file of ``domain`` in ``locale`` lives."""
    return _DIRECTORIES[domain] / locale / "LC_MESSAGES" / f"{domain}.po"


def write_catalogue(domain: str, locale: str, messages: dict[str, str | None]) -> list[str]:
    """Rewrite the ``.po`` file of ``domain`` in ``locale`` to hold exactly ``messages``
    (msgid -> plural msgid, or None), keeping every translation already written and the
    file's dates (an unchanged catalogue is rewritten unchanged); the msgids left to
    translate. In the source language a message's text is its msgid."""
    from babel.messages.catalog import Catalog  # only the catalogue commands need these
    from babel.messages.pofile import write_po

    path = catalogue_path(domain, locale)
    old = Catalog(locale=locale, domain=domain)
    if path.exists():
        with path.open("rb") as f:
            old = read_po(f, locale=locale, domain=domain)
    new = Catalog(
        locale=locale,
        domain=domain,
        project="placement",
        fuzzy=False,
        creation_date=old.creation_date,
        revision_date=old.revision_date,
    )
    todo: list[str] = []
    for msgid, plural in sorted(messages.items()):
        before = old.get(msgid)
        string: str | tuple[str, ...] | list[str] = "" if plural is None else ("", "")
        if before is not None and before.string:
            string = before.string
        elif locale == SOURCE_LOCALE:
            string = msgid if plural is None else (msgid, plural)
        else:
            todo.append(msgid)
        new.add((msgid, plural) if plural else msgid, string)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, new, width=100, omit_header=False, sort_output=True)
    return todo


#: the locale whose date and list formats a language's readers get: English as written in
#: Europe ("4 Dec 2026": day first, no comma to clash with a list's; "a, b or c")
_FORMAT_LOCALES = {"en": "en_GB"}


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "marked, not translated"
    """Mark a text for the catalogue where it is defined; translate it where it is shown."""
    return msgid


def check_locale(locale: str) -> str:
    """``locale`` if the product speaks it, else a ValueError naming the choices."""
    if locale not in LOCALES:
        raise ValueError(f"unknown language {locale!r}: choose one of {', '.join(LOCALES)}")
    return locale


def negotiate(
    stated: str | None = None, accept_language: str | None = None, default: str = DEFAULT_LOCALE
) -> str:
    """The reader's language: their stated setting, else their browser's, else ``default``."""
    if stated in LOCALES:
        return stated
    if accept_language:
        wanted = []
        for part in accept_language.split(","):
            tag, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                continue
            wanted.append((weight, tag.strip().replace("_", "-")))
        for _, tag in sorted(wanted, key=lambda w: -w[0]):
            base = tag.split("-", 1)[0].lower()
            if base in LOCALES:
                return base
    return default


# Babel parses the locale on every call: an explanation writes thousands of dates and numbers.
@lru_cache(maxsize=4096)
def _date(d: date, format: str, locale: str) -> str:  # noqa: A002 - Babel's name
    return format_date(d, format=format, locale=_babel_locale(locale))


@lru_cache(maxsize=4096)
def _number(x: float, format: str | None, locale: str) -> str:  # noqa: A002
    return format_decimal(x, format=format, locale=_babel_locale(locale))


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(_FORMAT_LOCALES.get(locale, locale))


@cache
def _language_name(tag: str, locale: str) -> str:
    try:
        language = Language.get(tag)
    except (LanguageTagError, ValueError):
        return tag
    if not language.language or not tag_is_valid(tag):
        return tag
    name = str(language.display_name(locale))
    return tag if name.endswith(f"[{tag}]") else name  # "Unknown language [qqq]": no name


def _compiled(domain: str, locale: str) -> NullTranslations:
    """One domain's own catalogue, compiled (a new object: fallbacks are added to it)."""
    path = catalogue_path(domain, locale)
    if locale == SOURCE_LOCALE and not path.exists():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


@cache
def _translations(domain: str, locale: str) -> NullTranslations:
    """A domain's catalogue, then those of the domains whose messages are texts (the
    service's states and refusals, a stress spec's problems): a page or a report that shows
    one of them finds its words there."""
    translations = _compiled(domain, locale)
    for other in _TEXT_DOMAINS:
        if other != domain and catalogue_path(other, locale).exists():
            translations.add_fallback(_compiled(other, locale))
    return translations


@dataclass(frozen=True)
class Translator:
    """Texts, dates and numbers for one reader's language, from one domain's catalogue."""

    locale: str = DEFAULT_LOCALE
    domain: str = ENGINE

    def gettext(self, msgid: str, **params: object) -> str:
        """The message in this language, its ``{parameters}`` filled in."""
        text = _translations(self.domain, self.locale).gettext(msgid)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        """The singular or plural form for ``n`` (also available as ``{n}``)."""
        text = _translations(self.domain, self.locale).ngettext(singular, plural, n)
        return text.format(n=self.number(n), **params)

    def date(self, d: date, format: str = "medium") -> str:  # noqa: A002 - Babel's name
        """A date as a reader of this language writes it (``12 mars 2026``, ``12 Mar 2026``)."""
        return _date(d, format, self.locale)

    def datetime(self, d: datetime, format: str = "medium") -> str:  # noqa: A002
        """A date and time as a reader of this language writes it."""
        return format_datetime(
            d, format=format, locale=_FORMAT_LOCALES.get(self.locale, self.locale)
        )

    def number(self, x: float, format: str | None = None) -> str:  # noqa: A002 - Babel's
        """A number as a reader of this language writes it (``1 234,5`` in French);
        ``format``: a Babel pattern such as ``0.00`` (two decimals)."""
        return _number(x, format, self.locale)

    def join(self, items: Sequence[str], style: Literal["and", "or"] = "and") -> str:
        """Items joined as a reader of this language writes a list (``a, b et c``)."""
        if not items:
            return ""
        locale = _FORMAT_LOCALES.get(self.locale, self.locale)
        return format_list(list(items), style="standard" if style == "and" else "or", locale=locale)

    def percent(self, x: float, format: str | None = None) -> str:  # noqa: A002
        """A share as a percentage (``12,5 %`` in French); ``format``: e.g. ``0.0%``."""
        return format_percent(x, format=format, locale=self.locale)

    def language_name(self, tag: str) -> str:
        """The name of a language tag in this language (``pcm`` -> ``pidgin nigérian``), from
        CLDR through langcodes (the English name where CLDR has none in this language; the
        tag itself for a tag the registry does not know)."""
        return _language_name(tag, self.locale)


@cache
def translator(locale: str = DEFAULT_LOCALE, domain: str = ENGINE) -> Translator:
    """The translator of ``domain`` in ``locale`` (checked)."""
    return Translator(check_locale(locale), domain)
