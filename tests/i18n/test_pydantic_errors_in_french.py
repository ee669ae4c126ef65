"""Every error pydantic can report about a value reads in French for a French reader: the
types a document or a request can meet have their own message, the others a French
fallback naming the type; only our validators' own texts (``value_error``) are kept."""

from __future__ import annotations

import typing
from datetime import datetime

import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic_core.core_schema import ErrorType

from placement.problems import OWN_MESSAGES, PYDANTIC_MESSAGES, error_problems
from placement.text import Text, render

ERROR_TYPES = [t for t in typing.get_args(ErrorType) if t not in OWN_MESSAGES]


@pytest.mark.parametrize("error_type", ERROR_TYPES)
def test_every_pydantic_error_type_reads_in_french(error_type: str) -> None:
    # no context: the messages' parameters default to empty values
    ((path, problem),) = error_problems({"type": error_type, "msg": "English", "ctx": {}}, "x")
    assert path == "x"
    assert isinstance(problem, Text), problem
    english, french = render(problem), render(problem, "fr")
    assert english != french, (english, french)
    assert "English" not in french


def test_the_types_a_user_can_meet_have_their_own_message_not_the_fallback() -> None:
    class Form(BaseModel):  # a date and time, a set, a step: none in the table before
        when: datetime
        tags: set[str]
        step: int = Field(multiple_of=5)

    with pytest.raises(ValidationError) as caught:
        Form.model_validate({"when": "tonight", "tags": 3, "step": 7})
    problems = {
        p: render(t, "fr")
        for e in caught.value.errors()
        for p, t in error_problems(e, str(e["loc"][0]))
    }
    assert problems == {
        "when": "La valeur doit être une date et une heure valides (AAAA-MM-JJTHH:MM:SS)",
        "tags": "La valeur doit être une liste",
        "step": "La valeur doit être un multiple de 5",
    }
    assert {"datetime_parsing", "set_type", "multiple_of"} <= PYDANTIC_MESSAGES.keys()


def test_our_validators_own_texts_are_kept_as_written() -> None:
    ((_, problem),) = error_problems({"type": "value_error", "msg": "Value error, give one"}, "x")
    assert problem == "give one"
