"""Service settings, read from the environment with the ``PLACEMENT_`` prefix.

``PLACEMENT_DATABASE_URL`` selects PostgreSQL (``postgresql+psycopg://...``); without it the
service uses an embedded SQLite file at ``PLACEMENT_DB_PATH``, by default ``placement.db`` in
the working directory: ``make serve``, ``placement serve``, ``placement users ...`` and
``placement scheduler`` run from the same directory share it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from placement.geography import GeographyCode

#: no solve may be given more time than this, whatever the settings say (an hour)
LONGEST_SOLVE_SECONDS = 3600.0


class Settings(BaseSettings):
    """Everything an operator may tune; every limit is enforced before any work is done."""

    model_config = SettingsConfigDict(env_prefix="PLACEMENT_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; empty means SQLite at db_path"
    )
    db_path: Path = Field(default=Path("placement.db"), description="SQLite file")
    geography: GeographyCode = "fr"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    keep_alive_seconds: int = Field(
        default=75,
        ge=1,
        le=600,
        description="how long an idle HTTP connection is kept open: longer than a client (or "
        "the reverse proxy) keeps one idle, so that the service never closes a connection as "
        "a request is sent on it (a reset), as uvicorn's own 5 s can under load",
    )

    stale_after_hours: float = Field(
        default=24.0,
        gt=0,
        description="a shelter whose places were not updated for this long is stale "
        "(the engine's policy.stale_capacity decides what that means)",
    )

    answer_deadline_hours: float = Field(
        default=2.0, gt=0, description="a proposal unanswered this long escalates (an alert)"
    )
    replan_after_hours: float = Field(
        default=2.0,
        gt=0,
        description="after the escalation, this long again without an answer: re-planned "
        "as if declined",
    )
    waitlist_retry_minutes: float = Field(
        default=15.0, gt=0, description="the waiting list is retried this often"
    )
    waitlist_after_change_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="after a shelter change the waiting list is retried, at most this often "
        "per API process",
    )
    retention_days: int = Field(
        default=90, ge=1, description="case data are purged this long after the stay ends"
    )
    scheduler_tick_seconds: float = Field(
        default=30.0, gt=0, description="how often `placement scheduler` looks for due jobs"
    )

    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="request body cap")
    max_batch_arrivals: int = Field(default=200, ge=1)
    max_arrivals_per_solve: int = Field(default=400, ge=1)
    max_shelters_per_solve: int = Field(default=1000, ge=1)
    max_horizon_days: int = Field(default=120, ge=1, le=366)
    max_solve_seconds: float = Field(default=60.0, gt=0, le=LONGEST_SOLVE_SECONDS)
    default_solve_seconds: float = Field(default=10.0, gt=0, le=LONGEST_SOLVE_SECONDS)
    explain_seconds: float = Field(default=10.0, ge=0, description="budget for explanations")
    solve_grace_seconds: float = Field(
        default=5.0, gt=0, description="after time limit + explanations, the solver is killed"
    )
    concurrent_solves: int = Field(
        default=2,
        ge=1,
        le=64,
        description="solver processes at once per API process: plan jobs, what-ifs and "
        "re-plans share them",
    )
    solve_queue_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="a what-if or re-plan waits this long for a free solve before a 429",
    )
    solve_requests_per_minute: int = Field(
        default=6,
        ge=1,
        le=10_000,
        description="solve requests (plans, what-ifs) per user per minute (429 beyond)",
    )
    db_wait_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="longest wait for a database connection or lock; then 503 + Retry-After",
    )
    db_pool_size: int = Field(
        default=20, ge=1, le=200, description="database connections kept per API process"
    )
    token_days: float = Field(
        default=90.0,
        gt=0,
        le=3660,
        description="a new token expires this long after it is issued (unless told otherwise)",
    )
    session_idle_minutes: float = Field(
        default=60.0,
        gt=0,
        le=24 * 60,
        description="a web session unused this long ends (log in again)",
    )
    session_absolute_hours: float = Field(
        default=12.0, gt=0, le=7 * 24, description="a web session ends this long after log-in"
    )
    login_link_minutes: float = Field(
        default=60.0, gt=0, le=7 * 24 * 60, description="a one-time log-in link expires after"
    )
    secure_cookies: bool = Field(
        default=False,
        description="mark the session cookie Secure (set it when the service is behind HTTPS; "
        "it is also set whenever a request arrives over HTTPS)",
    )
    public_url: str = Field(
        default="",
        max_length=200,
        description="the address users reach the service at, for log-in links "
        "(default: http://host:port)",
    )
    time_zone: str = Field(
        default="Europe/Paris",
        max_length=64,
        description="the IANA time zone the web pages show times in (answer deadlines, "
        "alerts, the audit log): the network's own",
    )
    start_method: Literal["fork", "forkserver", "spawn"] = "forkserver"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: give an IANA name such as Europe/Paris"
            ) from None
        return value

    def url(self) -> str:
        """The database URL actually used."""
        if self.database_url:
            url = self.database_url
            for plain in ("postgresql://", "postgres://"):
                if url.startswith(plain):  # the installed driver is psycopg 3
                    return "postgresql+psycopg://" + url.removeprefix(plain)
            return url
        return f"sqlite:///{self.db_path}"

    def describe(self) -> str:
        """Which database this is, for an operator (never the URL's password)."""
        if self.database_url:
            return "the database of PLACEMENT_DATABASE_URL"
        return f"SQLite file {self.db_path.resolve()}"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file (or another SQLite URL)."""
        return self.url().startswith("sqlite")
