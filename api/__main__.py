"""``python -m api`` runs the ``placement`` console script."""

from api.cli import main

main()
