"""Reading scenario files (YAML or JSON) into a validated :class:`Scenario`.

Every problem is reported as ``FILE: path: problem`` (``arrivals[3].gender: ...``), never as
a traceback; the problem is a catalogue message (:mod:`placement.problems`), in English in
``ScenarioError.problems`` and in any language with ``ScenarioError.in_language``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from placement.i18n import Translator
from placement.models import Scenario
from placement.problems import Problem, format_location, join_path
from placement.problems import validation_problems as problem_messages
from placement.text import ENGLISH, message, render

__all__ = ["ScenarioError", "format_location", "load_scenario", "validation_problems"]

M = TypeVar("M", bound=BaseModel)


class ScenarioError(Exception):
    """A scenario could not be read: ``messages`` holds its problems as ``(path, problem)``
    pairs (catalogue messages: render them with :meth:`in_language`), ``problems`` the same
    as English ``path: problem`` lines."""

    def __init__(self, source: str, problems: Sequence[Problem | str]) -> None:
        self.source = source
        self.messages: list[Problem] = [p if isinstance(p, tuple) else ("", p) for p in problems]
        self.problems = self.in_language(ENGLISH)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))

    def in_language(self, t: Translator) -> list[str]:
        """One ``path: problem`` line per problem, in ``t``'s language."""
        return [join_path(path, render(text, t)) for path, text in self.messages]


def validation_problems(error: ValidationError) -> list[str]:
    """Readable English ``path: problem`` lines from a pydantic error (see
    :func:`placement.problems.validation_problems` for the messages)."""
    return [join_path(path, render(text)) for path, text in problem_messages(error)]


def validate_document(
    model: type[M], data: Any, source: str, what: str, error: type[ScenarioError] = ScenarioError
) -> M:
    """Validate already-parsed data (a mapping) as ``model``; problems as ``error``, one
    ``path: problem`` per line (``what`` names the document in the top-level problem)."""
    if not isinstance(data, Mapping):
        top = message("expected a mapping of {what} fields", what=what)
        raise error(source, [("top level", top)])
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise error(source, problem_messages(e)) from None


def scenario_from_data(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate already-parsed data (a mapping) as a scenario."""
    return validate_document(Scenario, data, source, "scenario")


def parse_text(text: str, source: str) -> Any:
    """Parse YAML (a superset of JSON) or JSON text."""
    if source.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            malformed = message(
                "malformed JSON at line {line}, column {column}: {problem}",
                line=e.lineno,
                column=e.colno,
                problem=e.msg,
            )
            raise ScenarioError(source, [("", malformed)]) from None
    return _parse_yaml(text, source)


def _parse_yaml(text: str, source: str) -> Any:
    # imported here: a JSON file (what `placement solve` is given at national size) is read
    # without loading it
    import yaml

    try:
        # The C loader when libyaml is there: ~20x faster on national-size files.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        malformed = message("malformed YAML: {problem}", problem=problem)
        if mark is not None:
            malformed = message(
                "malformed YAML at line {line}, column {column}: {problem}",
                line=mark.line + 1,
                column=mark.column + 1,
                problem=problem,
            )
        raise ScenarioError(source, [("", malformed)]) from None
    except ValueError as e:  # a YAML value that cannot be what it looks like: 2026-13-01
        raise ScenarioError(
            source, [("", message("malformed YAML: {problem}", problem=str(e)))]
        ) from None


def read_document(path: str | Path) -> Any:
    """Read and parse a YAML or JSON file (problems as :class:`ScenarioError`)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        unreadable = message("cannot read file: {problem}", problem=e.strerror or "")
        raise ScenarioError(source, [("", unreadable)]) from None
    except UnicodeDecodeError:
        raise ScenarioError(source, [("", message("not a UTF-8 text file"))]) from None
    return parse_text(text, source)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    return scenario_from_data(read_document(path), str(path))
