"""The shelter list's JSON, assembled from one serialized view per shelter.

A night's capacity updates change one shelter at a time, and each changes the shelters'
version (``store.shelters_version``), so the whole list's cached answer (``api.read_cache``)
seldom survives until the next read. Each shelter's view is therefore kept as well, as bytes,
under what it is computed from: the reader's view (``reader_view``), the shelter's
``VIEW_COLUMNS``, whether its places are stale now, and the compromise records. A list is
then one light query of those columns, the views of the shelters that changed built again
(one more query of their rows), and the pieces joined: bytes identical to serializing the
whole list at once.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlmodel import Session, col, select

from api import store
from api.auth import Principal
from api.config import Settings
from api.read_cache import Entry, ReadCache, ShelterCaches
from api.schemas import ShelterOut, ShelterPublicOut
from api.services import shelters as service
from api.services.capacity import stale_before, stale_since
from api.store import Page
from api.tables import ShelterRow
from api.views import shelters_out

#: one shelter's view, serialized as the list serializes each of its items
SHELTER_VIEW: TypeAdapter[ShelterOut | ShelterPublicOut] = TypeAdapter(
    ShelterOut | ShelterPublicOut
)


def _version(columns: Sequence[Any], before: datetime, compromise: Hashable) -> Hashable:
    """What a shelter's view is kept under, from its ``VIEW_COLUMNS`` (the id aside)."""
    _id, version, updated_at, capacity_updated_at, active = columns
    stale = stale_since(capacity_updated_at, before)
    return (version, updated_at, capacity_updated_at, active, stale, compromise)


def shelter_list(
    session: Session,
    settings: Settings,
    who: Principal,
    query: tuple[bool | None, Page],
    caches: ShelterCaches,
) -> Entry:
    """The list ``who`` reads (``query``: the stale filter and the page) as JSON bytes, with
    the locations it shows (``Entry.audited``, ``Entry.detail``): the cached answer while the
    shelters' version is the same, else assembled (``assemble``)."""
    version = service.version(session, settings)  # read before the data it stands for
    stale, page = query
    key = ("shelters", service.reader_view(who), stale, page.limit, page.offset)
    entry = caches.answers.get(key, version)
    if entry is None:
        compromise = store.compromise_version(version)
        built = assemble(session, settings, who, query, (caches.per_shelter, compromise))
        entry = Entry(version, built.body, built.audited, built.detail)
        caches.answers.put(key, entry)
    return entry


def assemble(
    session: Session,
    settings: Settings,
    who: Principal,
    query: tuple[bool | None, Page],
    views: tuple[ReadCache, Hashable],
) -> Entry:
    """The list from the shelters' views kept in ``views[0]`` (``views[1]`` stands for the
    compromise records), building those that changed; the entry's version is left unset."""
    (stale, page), (cache, compromise) = query, views
    reader = service.reader_view(who)
    before = stale_before(settings)
    listed = service.listed_versions(session, settings, who, stale, page)
    keys = [((reader, c[0]), _version(c, before, compromise)) for c in listed]
    pieces: dict[str, Entry | None] = {
        c[0]: cache.get(key, version) for c, (key, version) in zip(listed, keys, strict=True)
    }
    missing = [sid for sid, piece in pieces.items() if piece is None]
    if missing:
        rows = store.read_shelters(
            session, select(ShelterRow).where(col(ShelterRow.id).in_(missing))
        )
        for row, view in zip(rows, shelters_out(session, rows, who, settings), strict=True):
            columns = [getattr(row, c.key) for c in service.VIEW_COLUMNS]
            shown = (row.id,) if service.location_seen(who, row) else ()
            piece = Entry(
                _version(columns, before, compromise),
                SHELTER_VIEW.dump_json(view, by_alias=True),
                shown,
            )
            cache.put((reader, row.id), piece)
            pieces[row.id] = piece
    found = [p for p in pieces.values() if p is not None]  # a shelter removed meanwhile: gone
    whole_list = stale is None and page.offset == 0 and len(listed) < page.limit
    seen, detail = service.seen_detail(who, tuple(i for p in found for i in p.audited), whole_list)
    body = b"[" + b",".join(p.body for p in found) + b"]"
    return Entry(None, body, seen, detail)
