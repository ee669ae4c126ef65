"""The problems of an input document as catalogue messages: ``arrivals[3].gender: ...``.

A problem is a field path (kept as it is: it names the data, in every language) and a
:class:`~placement.text.Text` (the problem, rendered in the reader's language). Our own
validators raise :class:`TextError`; pydantic's built-in checks are mapped by their error
type (:data:`PYDANTIC_MESSAGES`), so that a French reader gets them in French too; a type
not in the table (one only code can meet) gets :data:`UNMAPPED`, in the reader's language;
only our validators' own ``ValueError`` texts (``value_error``) are kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from placement.i18n import N_
from placement.text import Items, Param, Text, listed, message, plural_message

#: a field path (``arrivals[3].gender``, or ``""`` for the document) and its problem
Problem = tuple[str, Text | str]

UNKNOWN_FIELD = N_("unknown field")
NO_NAMES = N_("unknown field (this system stores no names)")


class TextError(ValueError):
    """A validation error made of catalogue messages, each with a path relative to where
    it is raised (``""``: that place itself; ``[2]``: its third item; ``arrivals[0].id``
    from a document-level validator)."""

    def __init__(self, *problems: tuple[str, Text] | Text) -> None:
        self.problems: list[tuple[str, Text]] = [
            p if isinstance(p, tuple) else ("", p) for p in problems
        ]
        super().__init__("\n".join(join_path(p, str(t)) for p, t in self.problems))


def join_path(path: str, problem: str) -> str:
    """``path: problem`` (just the problem without a path)."""
    return f"{path}: {problem}" if path else problem


def format_location(loc: tuple[int | str, ...]) -> str:
    """``('arrivals', 3, 'gender')`` -> ``arrivals[3].gender``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _sub(path: str, sub: str) -> str:
    if not sub:
        return path
    return path + sub if sub.startswith("[") or not path else f"{path}.{sub}"


def _alternatives(expected: str) -> Items:
    """``'woman', 'man' or 'nonbinary'`` (pydantic's English) as a list to join with "or"."""
    return listed(re.split(r", | or ", expected), "or")


def _ctx(key: str) -> Callable[[Mapping[str, Any]], Param]:
    """A value of the error's context as it would be typed in the file (``100000``, not
    ``100,000``: the reader compares it with what she typed)."""

    def get(ctx: Mapping[str, Any]) -> Param:
        return str(ctx.get(key, ""))

    return get


#: pydantic's error types as catalogue messages, each with its parameters read from the
#: error's context
PYDANTIC_MESSAGES: dict[str, Callable[[Mapping[str, Any]], Text]] = {
    "missing": lambda c: message("Field required"),
    "extra_forbidden": lambda c: message(UNKNOWN_FIELD),
    "literal_error": lambda c: message(
        "Input should be {expected}", expected=_alternatives(str(c.get("expected", "")))
    ),
    "enum": lambda c: message(
        "Input should be {expected}", expected=_alternatives(str(c.get("expected", "")))
    ),
    "int_type": lambda c: message("Input should be a valid integer"),
    "int_parsing": lambda c: message("Input should be a valid integer"),
    "int_from_float": lambda c: message("Input should be a valid integer"),
    "float_type": lambda c: message("Input should be a valid number"),
    "float_parsing": lambda c: message("Input should be a valid number"),
    "finite_number": lambda c: message("Input should be a finite number"),
    "bool_type": lambda c: message("Input should be a valid boolean"),
    "bool_parsing": lambda c: message("Input should be a valid boolean"),
    "string_type": lambda c: message("Input should be a valid string"),
    "date_type": lambda c: message("Input should be a valid date (YYYY-MM-DD)"),
    "date_parsing": lambda c: message("Input should be a valid date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": lambda c: message("Input should be a valid date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": lambda c: message("Input should be a date without a time"),
    "greater_than_equal": lambda c: message(
        "Input should be greater than or equal to {limit}", limit=_ctx("ge")(c)
    ),
    "greater_than": lambda c: message("Input should be greater than {limit}", limit=_ctx("gt")(c)),
    "less_than_equal": lambda c: message(
        "Input should be less than or equal to {limit}", limit=_ctx("le")(c)
    ),
    "less_than": lambda c: message("Input should be less than {limit}", limit=_ctx("lt")(c)),
    "too_short": lambda c: plural_message(
        "List should have at least {n} item, not {actual}",
        "List should have at least {n} items, not {actual}",
        int(c.get("min_length", 0)),
        actual=_ctx("actual_length")(c),
    ),
    "too_long": lambda c: plural_message(
        "List should have at most {n} item, not {actual}",
        "List should have at most {n} items, not {actual}",
        int(c.get("max_length", 0)),
        actual=_ctx("actual_length")(c),
    ),
    "string_too_short": lambda c: plural_message(
        "String should have at least {n} character",
        "String should have at least {n} characters",
        int(c.get("min_length", 0)),
    ),
    "string_too_long": lambda c: plural_message(
        "String should have at most {n} character",
        "String should have at most {n} characters",
        int(c.get("max_length", 0)),
    ),
    "string_pattern_mismatch": lambda c: message(
        "String should match pattern '{pattern}'", pattern=_ctx("pattern")(c)
    ),
    "tuple_type": lambda c: message("Input should be a list"),
    "list_type": lambda c: message("Input should be a list"),
    "dict_type": lambda c: message("Input should be a mapping of fields"),
    "model_type": lambda c: message("Input should be a mapping of fields"),
    "model_attributes_type": lambda c: message("Input should be a mapping of fields"),
}


def _same(msgid: str, *types: str) -> dict[str, Callable[[Mapping[str, Any]], Text]]:
    """Several error types that say the same thing to the person who typed the value."""
    return {t: (lambda c: message(msgid)) for t in types}


# The other error types a document or a request can meet (dates with times, sets, tagged
# unions, sizes...), each as the person who typed it reads it; types only a programmer can
# meet (a callable, a dataclass, an argument list) get the fallback, ``UNMAPPED``, which is
# still in the reader's language.
PYDANTIC_MESSAGES |= {
    **_same(N_("Input should be JSON text"), "json_type"),
    **_same(N_("Input should be valid JSON"), "json_invalid"),
    **_same(N_("Input should be null"), "none_required"),
    **_same(N_("Input should be valid text (Unicode)"), "string_unicode", "bytes_invalid_encoding"),
    **_same(N_("Input should contain only ASCII characters"), "string_not_ascii"),
    **_same(N_("Input should be a whole number of a reasonable size"), "int_parsing_size"),
    **_same(
        N_("Input should be a valid date and time (YYYY-MM-DDTHH:MM:SS)"),
        "datetime_type",
        "datetime_parsing",
        "datetime_object_invalid",
        "datetime_from_date_parsing",
    ),
    **_same(N_("Input should have no time zone"), "timezone_naive"),
    **_same(N_("Input should have a time zone"), "timezone_aware", "timezone_offset"),
    **_same(N_("Input should be a valid time (HH:MM)"), "time_type", "time_parsing"),
    **_same(N_("Input should be a valid duration"), "time_delta_type", "time_delta_parsing"),
    **_same(N_("Date should be in the past"), "date_past", "datetime_past"),
    **_same(N_("Date should be in the future"), "date_future", "datetime_future"),
    **_same(
        N_("Input should be a list"),
        "set_type",
        "frozen_set_type",
        "iterable_type",
        "iteration_error",
        "deque_type",
    ),
    **_same(N_("List items should be simple values"), "set_item_not_hashable"),
    **_same(
        N_("Input should be a mapping of fields"),
        "mapping_type",
        "frozen_dict_type",
        "ordered_dict_type",
        "counter_type",
    ),
    **_same(N_("Keys should be text"), "invalid_key"),
    **_same(N_("Input is nested too deeply"), "recursion_loop", "recursion_depth_exceeded"),
    **_same(N_("Field cannot be changed"), "frozen_field", "frozen_instance"),
    **_same(
        N_("Input should be a valid number"), "decimal_type", "decimal_parsing", "complex_type"
    ),
    **_same(
        N_("Number has too many digits"),
        "decimal_max_digits",
        "decimal_max_places",
        "decimal_whole_digits",
    ),
    **_same(N_("Input should be a valid fraction"), "fraction_type", "fraction_parsing"),
    **_same(N_("Input should be a valid complex number"), "complex_str_parsing"),
    **_same(
        N_("Input should be a valid URL"),
        "url_type",
        "url_parsing",
        "url_syntax_violation",
        "url_too_long",
        "url_scheme",
    ),
    **_same(N_("Input should be a valid UUID"), "uuid_type", "uuid_parsing", "uuid_version"),
    **_same(N_("Input should be valid text"), "bytes_type", "bytes_too_short", "bytes_too_long"),
    "multiple_of": lambda c: message(
        "Input should be a multiple of {multiple}", multiple=_ctx("multiple_of")(c)
    ),
    "union_tag_invalid": lambda c: message(
        "Input should be one of {expected}", expected=_ctx("expected_tags")(c)
    ),
    "union_tag_not_found": lambda c: message(
        "Input should say which kind it is ({field})", field=_ctx("discriminator")(c)
    ),
    "no_such_attribute": lambda c: message("unknown field"),
    "unexpected_keyword_argument": lambda c: message("unknown field"),
    "missing_argument": lambda c: message("Field required"),
    "missing_keyword_only_argument": lambda c: message("Field required"),
    "missing_positional_only_argument": lambda c: message("Field required"),
}
#: an error type not mapped above (one only code can meet): said in the reader's language,
#: with pydantic's name of the type
UNMAPPED = N_("Input is not valid ({kind})")
#: error types whose message is our own validators' (English) text, kept as it is
OWN_MESSAGES = ("value_error",)


def validation_problems(error: ValidationError) -> list[Problem]:
    """Readable ``(path, problem)`` pairs from a pydantic error."""
    problems: list[Problem] = []
    for e in error.errors():
        # Union members and aliases add noise to the location; keep the data path.
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        if e["type"] == "extra_forbidden" and loc[-1:] == ("name",) and "arrivals" in loc:
            problem = message(NO_NAMES)
            problems.append((format_location(loc), problem))
        else:
            problems += error_problems(e, format_location(loc))
    return problems


def error_problems(e: Mapping[str, Any], path: str) -> list[Problem]:
    """One pydantic error (an item of ``ValidationError.errors()``) at ``path``, as problems:
    our validators' messages, pydantic's mapped ones, else pydantic's English lines."""
    ctx = e.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, TextError):
        return [(_sub(path, sub), text) for sub, text in cause.problems]
    if e.get("type") in PYDANTIC_MESSAGES:
        return [(path, PYDANTIC_MESSAGES[e["type"]](ctx))]
    if e.get("type") not in OWN_MESSAGES:
        return [(path, message(UNMAPPED, kind=str(e.get("type", ""))))]
    lines = str(e.get("msg", "invalid")).removeprefix("Value error, ").split("\n")
    return [(path, line) for line in lines]
