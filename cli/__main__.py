"""``python -m cli`` runs the ``placement`` console script."""

from cli.main import main

main()
