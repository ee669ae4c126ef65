"""The coordinator's plan pages: plan an operation, follow the solve, read and commit the
plan, and follow the proposals."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
