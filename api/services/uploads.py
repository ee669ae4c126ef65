"""A document sent as a file or a request body (a scenario, a stress spec), parsed: YAML, or
JSON for a ``.json`` source; every way it cannot be read is an ``Invalid`` at its field."""

from __future__ import annotations

from typing import Any

from api.domain_errors import Invalid
from api.errors import TOO_DEEP
from placement.loading import ScenarioError, parse_text
from placement.text import Text, message


def parse_document(raw: bytes, source: str, refusal: Text, field: str = "body") -> Any:
    """The bytes of a document, parsed but not yet checked; ``source`` ending in ``.json``
    reads JSON, anything else YAML (a superset of JSON). ``Invalid(refusal)`` naming
    ``field`` for text that is not UTF-8, not YAML/JSON, or nested too deeply."""
    try:
        return parse_text(raw.decode("utf-8"), source)
    except ScenarioError as e:
        raise Invalid(refusal, [(field, p) for _, p in e.messages]) from None
    except UnicodeDecodeError:
        raise Invalid(refusal, [(field, message("not UTF-8 text"))]) from None
    except RecursionError:
        raise Invalid(refusal, [(field, message(TOO_DEEP))]) from None
