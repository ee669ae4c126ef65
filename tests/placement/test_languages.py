"""Language tags from the registry (langcodes): validated, normalised, named, and close."""

from __future__ import annotations

import pytest

from placement.i18n import translator
from placement.languages import (
    CLOSE_DISTANCE,
    has_close_language,
    is_valid_tag,
    normalise_tag,
    shared_language,
)
from placement.loading import scenario_from_data

BASE = {
    "name": "languages",
    "start": "2026-12-01",
    "shelters": [{"id": "S", "department": 69, "accepts": ["woman"], "capacity": 2}],
    "arrivals": [
        {"id": "A", "gender": "woman", "languages": ["en"], "danger": [{"department": 93}]}
    ],
}


@pytest.mark.parametrize(
    ("tag", "standard"),
    [
        ("iw", "he"),  # deprecated code of Hebrew
        ("mo", "ro"),  # Moldavian: Romanian
        ("cmn", "zh"),  # Mandarin, written as its macrolanguage
        ("in", "id"),  # Indonesian's old code
        ("EN-ng", "en-NG"),  # case
        ("en_GB", "en-GB"),  # underscore
        ("pcm", "pcm"),  # Nigerian Pidgin stays itself
        ("bin", "bin"),  # Edo (Bini): registered though CLDR has little on it
    ],
)
def test_synonyms_are_normalised(tag: str, standard: str) -> None:
    assert normalise_tag(tag) == standard


@pytest.mark.parametrize(
    "tag",
    [
        "xx",  # not registered
        "qqq",  # private use (qaa..qtz)
        "und",  # undetermined
        "zxx",  # no linguistic content
        "x-foo",  # private use only
        "english",  # not a tag
        "",
    ],
)
def test_tags_naming_no_known_language_are_refused(tag: str) -> None:
    assert not is_valid_tag(tag)


def test_a_scenario_is_read_with_normalised_tags() -> None:
    data = {**BASE, "arrivals": [{**BASE["arrivals"][0], "languages": ["iw", "cmn", "mo", "he"]}]}
    sc = scenario_from_data(data)
    assert sc.arrivals[0].languages == ("he", "zh", "ro")  # "he" given twice: once


def test_an_unknown_tag_names_the_field_in_the_readers_language() -> None:
    from placement.loading import ScenarioError

    data = {**BASE, "arrivals": [{**BASE["arrivals"][0], "languages": ["en", "xx"]}]}
    with pytest.raises(ScenarioError) as err:
        scenario_from_data(data)
    assert err.value.problems == [
        "arrivals[0].languages[1]: 'xx' is not a known language tag (BCP-47, e.g. 'en', 'ro', "
        "'pcm')"
    ]
    assert err.value.in_language(translator("fr")) == [
        "arrivals[0].languages[1]: « xx » n’est pas une étiquette de langue connue (BCP-47, "
        "par ex. « en », « ro », « pcm »)"
    ]


# The close pairs by CLDR's distance (person's language -> shelter's) at CLOSE_DISTANCE = 25,
# against the hand-written pairs this replaced.
@pytest.mark.parametrize(
    ("person", "shelter", "close"),
    [
        ("pcm", "en", True),  # kept: Nigerian Pidgin speakers served in English (24)
        ("en", "pcm", False),  # one way now (84)
        ("uk", "ru", True),  # kept one way (24)
        ("ru", "uk", False),  # (84)
        ("bg", "mk", False),  # dropped (84)
        ("es", "pt", False),  # dropped (84)
        ("es", "it", False),  # dropped (84)
        ("ro", "it", False),  # dropped (84)
        ("sr", "hr", False),  # dropped (59: the script differs)
        ("bs", "hr", True),  # new (8)
        ("cs", "sk", True),  # new (24)
        ("ca", "es", True),  # new (20)
        ("ht", "fr", True),  # new: Haitian Creole speakers served in French (24)
        ("yo", "en", False),  # a second language (34): listed by the person if she speaks it
        ("en-NG", "en-GB", False),  # the same language is shared, not close
    ],
)
def test_closeness_comes_from_cldr_distance(person: str, shelter: str, close: bool) -> None:
    assert CLOSE_DISTANCE == 25
    assert has_close_language([person], [shelter]) is close


def test_shared_language_matches_primary_subtags() -> None:
    assert shared_language(["en-NG", "pcm"], ["fr", "en"]) == "en-NG"
    assert shared_language(["pcm"], ["en"]) is None


def test_language_names_come_from_the_registry_in_the_readers_language() -> None:
    fr, en = translator("fr"), translator("en")
    assert fr.language_name("pcm") == "pidgin nigérian"
    assert en.language_name("bin") == "Bini"
    assert fr.language_name("en-NG") == "anglais (Nigeria)"
    assert fr.language_name("qqq") == "qqq"  # no name: the tag itself
