"""The pages, one module per part of the app (they import no JSON router)."""
