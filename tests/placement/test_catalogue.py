"""Every message of the engine and the command line has a French translation.

The messages are extracted from the code as ``pybabel extract`` would (every call of ``N_``,
``gettext``, ``ngettext``, ``_``, and of :func:`placement.text.message` /
``plural_message``, in ``placement/``, ``solver/`` and ``cli/``), and each must have a
non-empty, non-fuzzy French ``msgstr`` in the ``engine`` catalogue with the same
``{parameters}`` as its source text. ``make_catalogue_template`` writes what is missing.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from placement.i18n import ENGINE, catalogue_path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("placement", "solver", "cli")
KEYWORDS = {
    "N_": None,
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "message": None,
    "plural_message": (1, 2),
}
#: the command line's scenario-planning command is another domain's work (stress)
SKIP = ("cli/stress.py",)


def extracted() -> dict[str | tuple[str, str], list[str]]:
    """Every marked message id (a pair for plurals), with where it is written."""
    found: dict[str | tuple[str, str], list[str]] = {}
    for package in PACKAGES:
        for filename, lineno, msg, _comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=(),
        ):
            where = f"{package}/{filename}"
            if where in SKIP:
                continue
            key = msg if isinstance(msg, str) else (msg[0], msg[1])
            found.setdefault(key, []).append(f"{where}:{lineno}")
    return found


def french() -> Catalog:
    with catalogue_path(ENGINE, "fr").open("rb") as f:
        return read_po(f, locale="fr", domain=ENGINE)


def parameters(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_messages_are_found_in_the_code() -> None:
    # the extraction itself works: a known message of each kind is there
    found = extracted()
    assert "capacity confirmed recently" in found
    assert ("{n} free place {nights}", "{n} free places {nights}") in found
    assert "Field required" in found
    assert len(found) > 100


def catalogue_problems(
    found: dict[str | tuple[str, str], list[str]], catalogue: Catalog
) -> list[str]:
    """What is wrong with ``catalogue`` for the messages ``found``: missing or empty,
    fuzzy, plural or not as in the code, parameters that differ."""
    problems = []
    for key, where in sorted(found.items(), key=lambda kv: kv[1][0]):
        msgid = key if isinstance(key, str) else key[0]
        entry = catalogue.get(msgid)
        if entry is None or not all(_strings(entry.string)):
            problems.append(f"{where[0]}: no French translation: {msgid!r}")
            continue
        if entry.fuzzy:
            problems.append(f"{where[0]}: fuzzy (not used): {msgid!r}")
        if isinstance(key, tuple) != entry.pluralizable:
            problems.append(f"{where[0]}: plural in one and not the other: {msgid!r}")
            continue
        sources = key if isinstance(key, tuple) else (key,)
        wanted = set().union(*(parameters(s) for s in sources))
        for translated in _strings(entry.string):
            # a plural form may leave out {n} ("the last one"), nothing else
            extra = parameters(translated) - wanted
            lost = wanted - parameters(translated) - {"n"}
            if extra or lost:
                problems.append(f"{where[0]}: parameters differ: {msgid!r} -> {translated!r}")
    return problems


def test_every_engine_message_has_a_french_translation() -> None:
    problems = catalogue_problems(extracted(), french())
    assert not problems, "\n".join(problems)


def _strings(s: str | tuple[str, ...]) -> tuple[str, ...]:
    return s if isinstance(s, tuple) else (s,)


def test_the_check_reports_a_missing_a_fuzzy_and_a_mistranslated_message() -> None:
    catalogue = french()
    catalogue.add("full: {free}; {needed} needed [test]", "plein : {libre}")
    catalogue.add("capacity confirmed recently [test]", "places confirmées", flags=["fuzzy"])
    found: dict[str | tuple[str, str], list[str]] = {
        "a message nobody translated {x}": ["here:1"],
        "full: {free}; {needed} needed [test]": ["here:2"],
        "capacity confirmed recently [test]": ["here:3"],
        "capacity confirmed recently": ["here:4"],
    }
    problems = catalogue_problems(found, catalogue)
    assert len(problems) == 3, problems
    assert "no French translation" in problems[0]
    assert "parameters differ" in problems[1]
    assert "fuzzy" in problems[2]


def make_catalogue_template() -> str:  # pragma: no cover - a helper for translators
    """The entries missing from the French catalogue, as ``.po`` text to fill in."""
    catalogue = french()
    out = []
    for key, where in extracted().items():
        msgid = key if isinstance(key, str) else key[0]
        if catalogue.get(msgid) is not None:
            continue
        out.append(f"#: {where[0]}")
        if isinstance(key, tuple):
            out.append(f"msgid {_quoted(key[0])}\nmsgid_plural {_quoted(key[1])}")
            out.append('msgstr[0] ""\nmsgstr[1] ""\n')
        else:
            out.append(f'msgid {_quoted(key)}\nmsgstr ""\n')
    return "\n".join(out)


def _quoted(s: str) -> str:
    return '"' + re.sub(r'(["\\])', r"\\\1", s) + '"'
