"""How long the service took for each answer, said in the answer itself.

``ServerTiming`` adds ``Server-Timing: app;dur=<ms>`` to every HTTP answer: the time from
the request reaching the application to the start of its answer (authentication, the
database, the work and the serialisation; not the time the request waited for the event
loop or on the network). A client, a reverse proxy or the load benchmark reads it beside its
own measure, so the latency of the service and that of a saturated machine are told apart.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerTiming:
    """ASGI middleware: ``Server-Timing: app;dur=<ms>`` on every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers") or [])
                headers.append((b"server-timing", f"app;dur={ms:.1f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed)
