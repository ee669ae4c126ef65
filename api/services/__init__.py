"""The service layer: what the API and the scheduler do, by concern, without HTTP.

Each module holds one concern (``planning``: plan jobs and commits; ``proposals``: answers to
proposals and the re-plan a decline triggers; ``capacity``: how committed places reduce what
a shelter offers; ...). Services take a database session and plain values, and refuse with
the domain errors of ``api.domain_errors``; ``api.errors`` turns those into HTTP answers.
"""
