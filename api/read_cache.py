"""Answers kept per process and keyed by what they were computed from, so that a read the
night repeats (the coordinators' shelter list, ``/stats``) is not recomputed while nothing
it shows has changed.

An entry is found only under the exact *version* it was computed from: a tuple of cheap
aggregates read in the request's own transaction, before the data (``api.store``'s
``shelters_version``). Every worker reads the version from the database on every request,
so a change committed by any worker is seen by all at once: nothing stale is ever served
after a write. The key carries everything else the answer depends on (who reads it: the
fields a reader may see; the query's parameters). Bounded: the least recently used entries
go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

#: entries kept per process (a few per kind of reader and page)
MAX_ENTRIES = 64


@dataclass(frozen=True)
class Entry:
    """An answer (serialized, or figures an answer is computed from), the version it was
    computed from, and what its audit record says (the object ids whose data it shows, and
    the record's detail)."""

    version: Hashable
    body: Any
    audited: tuple[str, ...] = ()
    detail: str = ""


class ReadCache:
    """A small LRU map from a key to the ``Entry`` of its latest version (thread-safe: a
    worker answers requests from several threads)."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        if size < 1:
            raise ValueError("size: at least 1")
        self._size = size
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> Entry | None:
        """The entry of ``key`` if it was computed from ``version``, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: Entry) -> None:
        """Keep ``entry`` for ``key`` (replacing an older version's)."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


#: entries of one shelter kept per process (its views for a few kinds of reader, its places
#: tonight; times the shelters of a national network)
MAX_PER_SHELTER = 16_384


@dataclass(frozen=True)
class ShelterCaches:
    """A process's caches of what is read of the shelters: whole answers (keyed by reader
    and query, at the shelters' version: ``MAX_ENTRIES``) and entries of one shelter each
    (keyed by the shelter, at its own version: ``MAX_PER_SHELTER``)."""

    answers: ReadCache
    per_shelter: ReadCache

    @classmethod
    def new(cls) -> ShelterCaches:
        """Empty caches of the usual sizes."""
        return cls(ReadCache(), ReadCache(MAX_PER_SHELTER))
