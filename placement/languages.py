"""Language matching on BCP-47 tags.

Two tags match when their primary language subtags are equal (``en-NG`` matches ``en``).
Some different languages are close enough that a conversation is often possible (Nigerian
Pidgin and English); closeness may lower the interpreter cost, it never counts as a shared
language for the ``language_required`` rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

# A pragmatic subset of BCP-47: a primary subtag of 2-3 letters (or 5-8 for registered ones),
# then subtags of 1-8 alphanumerics.
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")

# Pairs of primary subtags close enough for a partial conversation. Symmetric.
_CLOSE_PAIRS: frozenset[frozenset[str]] = frozenset(
    frozenset(p)
    for p in [
        ("pcm", "en"),  # Nigerian Pidgin / English
        ("bg", "mk"),  # Bulgarian / Macedonian
        ("ru", "uk"),  # Russian / Ukrainian
        ("es", "pt"),  # Spanish / Portuguese
        ("es", "it"),  # Spanish / Italian
        ("ro", "it"),  # Romanian / Italian
        ("sr", "hr"),  # Serbian / Croatian
    ]
)


def is_valid_tag(tag: str) -> bool:
    """True for a syntactically plausible BCP-47 tag."""
    return bool(LANGUAGE_TAG.match(tag))


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


def has_close_language(person: Iterable[str], shelter: Iterable[str]) -> bool:
    """True when some language of the person is close to some language of the shelter."""
    spoken = _primaries(tuple(shelter))
    return any(
        frozenset((mine, other)) in _CLOSE_PAIRS
        for mine in _primaries(tuple(person))
        for other in spoken
    )
