"""The message catalogue's mechanics: languages, plurals, parameters, dates and numbers."""

from datetime import date

import pytest

from placement.i18n import DEFAULT_LOCALE, LOCALES, check_locale, negotiate, translator


def test_plural_forms_and_parameters_follow_each_language() -> None:
    fr, en = translator("fr"), translator("en")
    assert fr.ngettext("{n} place", "{n} places", 1) == "1 place"
    assert fr.ngettext("{n} place", "{n} places", 2) == "2 places"
    assert en.ngettext("{n} place", "{n} places", 1) == "1 place"


def test_dates_and_numbers_are_written_the_readers_way() -> None:
    assert translator("fr").date(date(2026, 3, 12)) == "12 mars 2026"
    # English as written in Europe: day first, no comma to clash with a list's commas
    assert translator("en").date(date(2026, 3, 12)) == "12 Mar 2026"
    assert translator("en").number(1234.5) == "1,234.5"
    assert translator("fr").number(1234.5).replace("\u202f", " ") == "1 234,5"


def test_languages_are_named_in_the_readers_language() -> None:
    assert translator("fr").language_name("pcm") == "pidgin nigérian"
    assert translator("en").language_name("pcm") == "Nigerian Pidgin"


@pytest.mark.parametrize(
    ("stated", "header", "expected"),
    [
        ("en", "fr-FR", "en"),
        (None, "en-US,en;q=0.9,fr;q=0.8", "en"),
        (None, "de-DE,fr;q=0.5,en;q=0.4", "fr"),
        (None, "de", DEFAULT_LOCALE),
        (None, None, DEFAULT_LOCALE),
        ("xx", "en;q=nonsense,en-GB", "en"),
    ],
)
def test_the_stated_language_wins_then_the_browsers(
    stated: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(stated, header) == expected


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="fr, en"):
        check_locale("de")
    assert set(LOCALES) == {"fr", "en"}
