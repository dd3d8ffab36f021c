"""The live feed: one gRPC ``SubscribeIncidents`` call per browser, relayed as server-sent events.

The browser reads it with ``fetch()`` (EventSource cannot send an Authorization header). Each
feed item becomes one event (``incident``, ``help``, ``candidate``, ``snapshot_complete``,
``keepalive``) whose ``id`` is the item's cursor when it has one; the page keeps the last cursor
and passes it back (``?cursor=`` or ``Last-Event-ID``) when it reconnects, so it receives exactly
what it missed. A gRPC error ends the stream with one ``error`` event (status, reason, zh/en).

Bounded: a reader task moves gRPC items into a small queue, a writer task moves them to the
socket. If the browser stops reading, its socket buffer fills, the writer's write times out or
the queue overflows; either way that browser is dropped (its gRPC call cancelled) and nobody else
notices. The page then reconnects from its last cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from prometheus_client import Counter, Gauge

from notify.console.convert import feed_event, sse_frame
from notify.console.errors import from_rpc_error

log = logging.getLogger(__name__)

STREAMS_OPEN = Gauge("notify_console_feed_streams", "Console live-feed streams (browsers) open")
STREAMS_ENDED = Counter(
    "notify_console_feed_streams_ended_total",
    "Console live-feed streams ended, by outcome (client_gone, too_slow, upstream_error, upstream_end, shutdown)",
    ["outcome"])
EVENTS_SENT = Counter("notify_console_feed_events_total", "Server-sent events written to browsers, by event",
                      ["event"])


@dataclass(frozen=True)
class FeedLimits:
    queue_items: int = 2048     # feed items buffered per browser before it counts as too slow
    write_timeout_s: float = 10.0  # one write may wait this long for the browser to read
    heartbeat_s: float = 10.0   # an SSE comment when nothing else was sent (detects dead browsers)


_END = ("end", b"")
_PING = ("ping", b": ping\n\n")


class FeedPump:
    """Relays one upstream feed to one browser; ``run`` returns the outcome."""

    def __init__(self, upstream: AsyncIterable[Any], write: Callable[[bytes], Awaitable[None]],
                 limits: FeedLimits, request_id: str) -> None:
        self.upstream = upstream
        self.write = write
        self.limits = limits
        self.request_id = request_id
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(limits.queue_items)
        self.outcome = ""

    async def run(self) -> str:
        reader = asyncio.create_task(self._read(), name=f"console-feed-read-{self.request_id}")
        writer = asyncio.create_task(self._write_loop(), name=f"console-feed-write-{self.request_id}")
        try:
            await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and not writer.done():
                # upstream ended (or the queue overflowed): the writer drains what is queued
                if self.outcome == "too_slow":
                    writer.cancel()
                await asyncio.wait({writer})
        except asyncio.CancelledError:
            self.outcome = self.outcome or "shutdown"
            raise
        finally:
            for task in (reader, writer):
                task.cancel()
            for task in (reader, writer):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        return self.outcome or "client_gone"

    def _offer(self, chunk: tuple[str, bytes]) -> bool:
        try:
            self.queue.put_nowait(chunk)
            return True
        except asyncio.QueueFull:
            self.outcome = "too_slow"
            return False

    async def _read(self) -> None:
        try:
            async for item in self.upstream:
                event, data = feed_event(item)
                if not self._offer((event, sse_frame(event, data, data.get("cursor", "")))):
                    return
            self.outcome = "upstream_end"
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED and self.outcome:
                return
            status, body = from_rpc_error(err, self.request_id)
            body["error"]["http_status"] = status
            self.outcome = "upstream_error"
            if not self._offer(("error", sse_frame("error", body))):
                return
        self._offer(_END)

    async def _write_loop(self) -> None:
        while self.outcome != "too_slow":
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                async with asyncio.timeout(self.limits.heartbeat_s):
                    event, chunk = await self.queue.get()
            except TimeoutError:
                event, chunk = _PING
            if not chunk:
                return
            try:
                async with asyncio.timeout(self.limits.write_timeout_s):
                    await self.write(chunk)
            except TimeoutError:
                self.outcome = "too_slow"
                return
            except (ConnectionError, RuntimeError):  # aiohttp: reset / closing transport
                self.outcome = self.outcome if self.outcome == "too_slow" else "client_gone"
                return
            EVENTS_SENT.labels(event).inc()
