"""One router per URL prefix, each module named after its prefix (``/plans``: ``plans``).

Routers parse the request, call a service (``api.services``) and shape the answer
(``api.views``); no router imports another.
"""
