"""The ``web`` catalogue's messages, extracted from the pages' Python and templates.

``python -m api.web.catalogue`` adds every message the code marks (``N_``, ``_``, ``gettext``,
``ngettext``) and is missing from ``api/web/locale/<locale>/LC_MESSAGES/web.po`` (with an
empty translation, to write), and drops those no longer used; the test
``tests/web/test_catalogue.py`` fails on a message without its French text.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from api.web import HERE, WEB
from placement.i18n import LOCALES, catalogue_path

KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "", "trimmed": "false"}}


def extract(directory: Path = HERE) -> dict[str, str | None]:
    """Every message marked under ``directory``: msgid -> plural msgid (None if none)."""
    found: dict[str, str | None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        directory, METHODS, keywords=KEYWORDS, options_map=OPTIONS
    ):
        if isinstance(message, tuple):
            found[message[0]] = message[1]
        elif message:
            found.setdefault(message, None)
    return found


def read(locale: str) -> Catalog:
    """The ``web`` catalogue of ``locale`` as stored."""
    with catalogue_path(WEB, locale).open("rb") as f:
        return read_po(f, locale=locale, domain=WEB)


def update() -> list[str]:
    """Bring every ``.po`` file of the domain in line with the code; the msgids added."""
    messages = extract()
    added: list[str] = []
    for locale in LOCALES:
        path = catalogue_path(WEB, locale)
        old = read(locale) if path.exists() else Catalog(locale=locale, domain=WEB)
        # the old dates are kept, so that an unchanged catalogue is rewritten unchanged
        new = Catalog(
            locale=locale,
            domain=WEB,
            project="placement",
            fuzzy=False,
            creation_date=old.creation_date,
            revision_date=old.revision_date,
        )
        for msgid, plural in sorted(messages.items()):
            key = (msgid, plural) if plural else msgid
            before = old.get(msgid)
            string: Any = "" if plural is None else ("", "")
            if before is not None and before.string:
                string = before.string
            elif locale == "en":  # the source language: the msgid is the text
                string = msgid if plural is None else (msgid, plural)
            else:
                added.append(msgid)
            new.add(key, string)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, new, width=100, omit_header=False, sort_output=True)
    return added


if __name__ == "__main__":
    for msgid in update():
        sys.stdout.write(f"to translate: {msgid}\n")
