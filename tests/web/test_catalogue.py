"""Every text of the web pages has its French translation, with the same parameters."""

from __future__ import annotations

import re

from api.web.catalogue import extract, read

PARAMETER = re.compile(r"\{(\w+)\}")


def test_every_web_message_has_a_french_translation_with_the_same_parameters() -> None:
    messages = extract()
    assert len(messages) > 40  # the extraction sees the templates and the Python
    french = read("fr")
    problems = []
    for msgid, plural in messages.items():
        entry = french.get(msgid)
        strings = [] if entry is None else list(entry.string if plural else [entry.string])
        if not strings or not all(strings):
            problems.append(f"missing: {msgid!r}")
            continue
        wanted = set(PARAMETER.findall(msgid + (plural or "")))
        for text in strings:
            if set(PARAMETER.findall(text)) - (wanted | {"n"}):
                problems.append(f"unknown parameter in {text!r}")
    assert problems == []
