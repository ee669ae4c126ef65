"""Reading scenario files (YAML or JSON) into a validated :class:`Scenario`.

Every problem is reported as ``FILE: path: problem`` (``arrivals[3].gender: ...``), never as
a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from placement.models import Scenario

M = TypeVar("M", bound=BaseModel)


class ScenarioError(Exception):
    """A scenario could not be read; ``problems`` holds one ``path: problem`` per line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def format_location(loc: tuple[int | str, ...]) -> str:
    """``('arrivals', 3, 'gender')`` -> ``arrivals[3].gender``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def validation_problems(error: ValidationError) -> list[str]:
    """Readable ``path: problem`` lines from a pydantic error."""
    problems = []
    for e in error.errors():
        # Union members and aliases add noise to the location; keep the data path.
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field" + (
                " (this system stores no names)"
                if loc[-1:] == ("name",) and "arrivals" in loc
                else ""
            )
        path = format_location(loc)
        for line in msg.split("\n"):
            problems.append(f"{path}: {line}" if path else line)
    return problems


def validate_document(
    model: type[M], data: Any, source: str, what: str, error: type[ScenarioError] = ScenarioError
) -> M:
    """Validate already-parsed data (a mapping) as ``model``; problems as ``error``, one
    ``path: problem`` per line (``what`` names the document in the top-level problem)."""
    if not isinstance(data, Mapping):
        raise error(source, [f"top level: expected a mapping of {what} fields"])
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise error(source, validation_problems(e)) from None


def scenario_from_data(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate already-parsed data (a mapping) as a scenario."""
    return validate_document(Scenario, data, source, "scenario")


def parse_text(text: str, source: str) -> Any:
    """Parse YAML (a superset of JSON) or JSON text."""
    try:
        if source.endswith(".json"):
            return json.loads(text)
        # The C loader when libyaml is there: ~20x faster on national-size files.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except json.JSONDecodeError as e:
        raise ScenarioError(
            source, [f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}"]
        ) from None
    except yaml.YAMLError as e:
        where = ""
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(e, "problem", None) or str(e)
        raise ScenarioError(source, [f"malformed YAML{where}: {problem}"]) from None
    except ValueError as e:  # a YAML value that cannot be what it looks like: 2026-13-01
        raise ScenarioError(source, [f"malformed YAML: {e}"]) from None


def read_document(path: str | Path) -> Any:
    """Read and parse a YAML or JSON file (problems as :class:`ScenarioError`)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(source, [f"cannot read file: {e.strerror}"]) from None
    except UnicodeDecodeError:
        raise ScenarioError(source, ["not a UTF-8 text file"]) from None
    return parse_text(text, source)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    return scenario_from_data(read_document(path), str(path))
