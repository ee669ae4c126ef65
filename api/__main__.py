"""``python -m api`` runs the ``placement`` console script (which lives in :mod:`cli`)."""

from cli.main import main

main()
