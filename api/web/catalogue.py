"""The ``web`` catalogue's messages, extracted from the pages' Python and templates.

``python -m api.web.catalogue`` adds every message the code marks (``N_``, ``_``, ``gettext``,
``ngettext``) and is missing from ``api/web/locale/<locale>/LC_MESSAGES/web.po`` (with an
empty translation, to write), and drops those no longer used; the test
``tests/web/test_catalogue.py`` fails on a message without its French text.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from api.web import HERE, WEB
from placement.i18n import LOCALES, catalogue_path, write_catalogue

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
    return [m for locale in LOCALES for m in write_catalogue(WEB, locale, messages)]


if __name__ == "__main__":
    for msgid in update():
        sys.stdout.write(f"to translate: {msgid}\n")
