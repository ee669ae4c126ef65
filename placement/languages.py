"""Language tags (BCP-47) from a maintained registry: langcodes, with CLDR and the IANA
language subtag registry (package ``language-data``).

- A tag is **valid** when every subtag is registered and it names a language: ``xx`` (not
  registered), ``qaa``..``qtz`` (private use), ``und``, ``mul``, ``mis`` and ``zxx`` (no
  language) and bare private-use tags (``x-...``) are refused.
- A tag is **normalised** when a scenario is read: case, deprecated and synonymous codes
  (``iw`` -> ``he``, ``mo`` -> ``ro``, ``in`` -> ``id``, ``tl`` -> ``fil``), and a macrolanguage's
  main member written as the macrolanguage (``cmn`` -> ``zh``, ``arb`` -> ``ar``).
- Two tags **match** when their primary language subtags are equal (``en-NG`` matches
  ``en``): the ``language_required`` rule.
- A language is **close** to another when CLDR's language-matching distance from the
  person's language (what she speaks) to the shelter's (what staff speak) is at most
  :data:`CLOSE_DISTANCE`. Closeness only lowers the interpreter cost; it never counts as a
  shared language for the ``language_required`` rule.

Why 25: CLDR gives about 4 to regional variants, 8-20 to mutually intelligible languages
(Bosnian/Croatian, Danish/Norwegian, Catalan or Galician speakers served in Spanish), 24 to a
language whose speakers understand a neighbour (Nigerian Pidgin -> English, Ukrainian or
Belarusian -> Russian, Slovak/Czech, Haitian Creole -> French), 30-44 to a second language
speakers often learned (Hausa or Yoruba -> English, Wolof or Lingala -> French), and 80+ to
unrelated ones. A second language a person has learned belongs in her own ``languages``
list; closeness is for languages she does not list, so the line is drawn below 30.

Of the hand-written pairs this replaces, 25 keeps Nigerian Pidgin -> English and
Ukrainian -> Russian (one way now: CLDR does not serve Russian speakers in Ukrainian nor
English speakers in Pidgin), and drops Bulgarian/Macedonian (84), Spanish/Portuguese (84),
Spanish/Italian (84), Romanian/Italian (84) and Serbian/Croatian (59: the script differs).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from langcodes import Language, standardize_tag, tag_distance, tag_is_valid

#: the syntax of a tag, for schemas (a generated client refuses what is surely wrong); the
#: registry check (:func:`normalise_tag`) is the one that decides
TAG_SYNTAX = r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$"

#: the largest CLDR language-matching distance counted as a close language (see above)
CLOSE_DISTANCE = 25

#: language subtags that name no language: undetermined, multiple, uncoded, no content
_NOT_A_LANGUAGE = frozenset({"und", "mul", "mis", "zxx"})


@cache
def normalise_tag(tag: str) -> str | None:
    """The tag in its standard form (``iw`` -> ``he``, ``cmn`` -> ``zh``, ``en_ng`` ->
    ``en-NG``), or None when it is not a registered tag naming a language."""
    try:
        if not tag_is_valid(tag):
            return None
        standard: str = standardize_tag(tag, macro=True)
    except ValueError:
        return None
    language = Language.get(standard).language
    if (
        language is None
        or not language.isalpha()  # "x-foo": private use only
        or language in _NOT_A_LANGUAGE
        or "qaa" <= language <= "qtz"
    ):
        return None
    return standard


def is_valid_tag(tag: str) -> bool:
    """True for a registered BCP-47 tag that names a language."""
    return normalise_tag(tag) is not None


def primary(tag: str) -> str:
    """The primary language subtag, lower-cased: ``en-NG`` -> ``en``."""
    return tag.split("-", 1)[0].lower()


@cache
def _primaries(tags: tuple[str, ...]) -> frozenset[str]:
    return frozenset(primary(t) for t in tags)


def shared_language(person: Iterable[str], shelter: Iterable[str]) -> str | None:
    """The person's best language that the shelter also speaks (person's tag), or None."""
    spoken = _primaries(tuple(shelter))
    for tag in person:
        if primary(tag) in spoken:
            return tag
    return None


@cache
def is_close(mine: str, other: str) -> bool:
    """Whether a speaker of the language ``mine`` is served by staff speaking ``other``
    (primary subtags), by CLDR's language-matching distance."""
    return mine != other and tag_distance(mine, other) <= CLOSE_DISTANCE


@cache
def _has_close(person: tuple[str, ...], shelter: tuple[str, ...]) -> bool:
    return any(
        is_close(mine, other) for mine in _primaries(person) for other in _primaries(shelter)
    )


def has_close_language(person: Iterable[str], shelter: Iterable[str]) -> bool:
    """True when some language of the person is close to some language of the shelter."""
    return _has_close(tuple(person), tuple(shelter))
