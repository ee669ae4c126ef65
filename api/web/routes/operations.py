"""The coordinator's operation pages: the operation, its arrivals (one by one or from a
CSV or XLSX file), its holds."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
