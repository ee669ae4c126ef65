"""Schemathesis hooks of the contract run (``test_openapi_contract.py``), through the
mechanisms schemathesis documents for what a JSON Schema cannot say:

- dates (``format: date``) drawn from the window the schemas' pattern states (2000-2100):
  drawn from the whole calendar and filtered by the pattern, too few remain for a scenario;
- the ``bcp47`` string format (``placement.models.LANGUAGE_TAG_FORMAT``): a registered
  language tag, generated from the languages the night's arrivals speak (the syntax alone
  would give unregistered tags, which the service rightly refuses);
- ``filter_failure``: a schema-valid request refused with a 422 is not counted when every
  problem of the answer names a field of a rule the operation's description states and its
  ``x-rules`` list (one field against another, a registry: ``api.openapi.BODY_RULES``). Any
  other refusal of valid data still fails the run.
"""

from __future__ import annotations

import os
import re
from typing import Any

import schemathesis
from hypothesis import strategies as st

from placement.languages import is_valid_tag
from placement.models import EARLIEST_DATE, LANGUAGE_TAG_FORMAT, LATEST_DATE

#: the languages DOMAIN.md lists (English, Nigerian Pidgin, Edo, Romanian, Bulgarian,
#: Mandarin, Spanish, Portuguese, Albanian, Russian, Ukrainian, Arabic), French, a region
SPOKEN = ("en", "pcm", "bin", "ro", "bg", "zh", "es", "pt", "sq", "ru", "uk", "ar", "fr", "en-NG")
assert all(is_valid_tag(tag) for tag in SPOKEN)

schemathesis.openapi.format(LANGUAGE_TAG_FORMAT, st.sampled_from(SPOKEN))
schemathesis.openapi.format(
    "date", st.dates(EARLIEST_DATE, LATEST_DATE).map(lambda d: d.isoformat())
)


def _problem_fields(response: Any) -> list[str]:
    try:
        return [str(problem["field"]) for problem in response.json()["errors"]]
    except (ValueError, KeyError, TypeError):
        return []


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a 422 to valid data whose problems all fall under a rule the
    operation documents in ``x-rules``."""
    if failure.code != "ST202" or response.status_code != 422:
        return True
    rules = case.operation.definition.raw.get("x-rules", [])
    fields = _problem_fields(response)
    documented = all(any(re.search(r["field"], f) for r in rules) for f in fields)
    if fields and documented:
        _note(f"{case.operation.label}: {', '.join(sorted(set(fields)))}")
    return not (fields and documented)


def _note(line: str) -> None:
    """What a documented rule excused, for the test to print (``PLACEMENT_CONTRACT_EXCUSED``)."""
    path = os.environ.get("PLACEMENT_CONTRACT_EXCUSED")
    if path:
        with open(path, "a") as f:
            f.write(line[:300] + "\n")


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    """Drop the stateful phase's requests whose path got a null from a response (a nullable
    ``operation_id`` followed as a link gives ``/operations/None``): not a value of the
    path parameter, so not a schema-valid request to hold the service to."""
    return None not in (case.path_parameters or {}).values()
