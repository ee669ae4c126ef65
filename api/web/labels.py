"""The words of the scenario format as a reader sees them: column and field names, genders,
statuses. One table, used by the forms, the file import's problems and the plan's tables."""

from __future__ import annotations

from api.domain_errors import STATE_TEXTS
from placement.i18n import N_, Translator

#: the name of each field / column of an arrival, as written in a problem ("ligne 7, genre")
FIELD_LABELS = {
    "id": N_("id"),
    "gender": N_("gender"),
    "trans": N_("trans"),
    "age": N_("age"),
    "minor": N_("minor"),
    "languages": N_("languages"),
    "children": N_("children"),
    "needs": N_("needs"),
    "wishes": N_("wishes"),
    "danger": N_("danger"),
    "safety_distance_km": N_("safety distance (km)"),
    "language_required": N_("language required"),
    "network": N_("network"),
    "household": N_("household"),
    "keep_apart": N_("keep apart from"),
    "exclude_shelters": N_("excluded shelters"),
    "priority": N_("priority"),
    "arrives": N_("arrives"),
    "nights": N_("nights"),
    "reference": N_("reference"),
    "date": N_("date"),
    "shelter_id": N_("shelter"),
    "places": N_("places"),
    "expires_in_hours": N_("expires in (hours)"),
    "first_night": N_("first night"),
}
GENDERS = {"woman": N_("woman"), "man": N_("man"), "nonbinary": N_("non-binary")}
#: the states of arrivals, proposals, holds and plan jobs: the service's one table (its words
#: in the ``api`` catalogue, which the pages' translator reads after its own)
STATUSES = STATE_TEXTS


def label(t: Translator, table: dict[str, str], key: str) -> str:
    """``key``'s label from ``table`` in the reader's language (the key itself if unknown)."""
    return t.gettext(table[key]) if key in table else key
