"""The ``placement`` command line: ``solve`` (cli.main), the plan as text (cli.render), and
the service's commands (cli.service). The only package that prints."""
