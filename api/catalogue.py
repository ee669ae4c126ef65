"""The ``api`` catalogue: the service's own texts (its refusals, alerts, scheduled jobs).

``python -m api.catalogue`` adds every message the service's code marks (``N_``, ``gettext``,
``ngettext``, and ``placement.text.message`` / ``plural_message`` for texts kept as data) and
is missing from ``api/locale/fr/LC_MESSAGES/api.po`` (with an empty translation, to write),
and drops those no longer used; ``tests/api/test_api_catalogue.py`` fails on a message
without its French text. The web pages (``api/web``) have their own domain, ``web``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from api import SERVICE
from placement.i18n import catalogue_path, write_catalogue

HERE = Path(__file__).parent
KEYWORDS = {
    "N_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "message": None,
    "plural_message": (1, 2),
}
#: files of ``api`` whose texts are another domain's (the pages'), or that have none but
#: read a variable named ``message`` (an ASGI message, which the extraction would take for
#: the marker)
ELSEWHERE = ("web/", "migrations/", "timing.py")
#: the languages with a catalogue (English is the source: its msgids are the texts)
TRANSLATED = ("fr",)


def extract(directory: Path = HERE) -> dict[str, tuple[str | None, str]]:
    """Every message marked in the service's code: msgid -> (plural msgid, where)."""
    found: dict[str, tuple[str | None, str]] = {}
    for filename, line, msg, _comments, _context in extract_from_dir(
        directory, [("**.py", "python")], keywords=KEYWORDS, comment_tags=()
    ):
        if filename.startswith(ELSEWHERE):
            continue
        where = f"api/{filename}:{line}"
        if isinstance(msg, tuple):
            found[msg[0]] = (msg[1], where)
        elif msg:
            found.setdefault(msg, (None, where))
    return found


def read(locale: str) -> Catalog:
    """The ``api`` catalogue of ``locale`` as stored."""
    with catalogue_path(SERVICE, locale).open("rb") as f:
        return read_po(f, locale=locale, domain=SERVICE)


def update() -> list[str]:
    """Bring the ``.po`` files in line with the code; the msgids left to translate."""
    messages = {msgid: plural for msgid, (plural, _where) in extract().items()}
    return [m for locale in TRANSLATED for m in write_catalogue(SERVICE, locale, messages)]


if __name__ == "__main__":
    for msgid in update():
        sys.stdout.write(f"to translate: {msgid}\n")
