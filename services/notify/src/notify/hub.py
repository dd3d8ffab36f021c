"""Live fan-out of persisted feed items to the streams open on this replica.

Every item is first committed to PostgreSQL (the feed tables give it its sequence); the
committing transaction sends ``pg_notify('notify_feed', <feed>)``. Each replica LISTENs, reads
the new rows of the feeds its subscribers watch, and offers each row to the subscribers whose
rooms it concerns. Offering never waits: a subscriber whose bounded buffer is full is marked too
slow and its stream is cancelled, so one stuck connection cannot hold up the others or the Kafka
consumers. A stream catches up from the tables first, then follows the hub; sequence numbers make
the hand-over exact (no gap, no duplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection

log = logging.getLogger(__name__)

CHANNEL = "notify_feed"
ALL_ROOMS = ""  # index key of subscribers that see every room


@dataclass(frozen=True)
class Entry:
    """One persisted feed row: the message (cursor and sequence already set) and what filters use."""

    seq: int
    message: Any  # ProctorFeedItem or CandidateNoticeItem
    room_id: str = ""
    kind: int = 0
    severity: int = 0
    device: int = 0  # notices: target device kind (0 = every device)
    source_ms: int = 0


Fetch = Callable[[str, int, int], Awaitable[list[Entry]]]
Head = Callable[[str], Awaitable[int]]


@dataclass(eq=False)
class Subscriber:
    feed: str
    capacity: int
    rooms: frozenset[str] | None = None  # None: every room of the feed
    items: deque[Entry] = field(default_factory=deque)
    too_slow: bool = False
    task: asyncio.Task[Any] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, entry: Entry) -> None:
        if self.too_slow:
            return
        if len(self.items) >= self.capacity:
            self.too_slow = True
            self.items.clear()
            self._ready.set()
            if self.task is not None:
                self.task.cancel()  # it is stuck writing to a client that does not read
            return
        self.items.append(entry)
        self._ready.set()

    async def take(self, timeout_s: float) -> list[Entry]:
        """What arrived since the last call (waits up to ``timeout_s`` for something)."""
        if not self.items and not self.too_slow:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout_s)
        self._ready.clear()
        out = list(self.items)
        self.items.clear()
        return out


class FeedHub:
    def __init__(self, dsn: str, fetch: Fetch, head: Head, page: int = 500, poll_s: float = 1.0) -> None:
        self.dsn = dsn
        self.fetch = fetch
        self.head = head
        self.page = page
        self.poll_s = poll_s
        self._subs: dict[str, dict[str, set[Subscriber]]] = {}  # feed -> room (or ALL_ROOMS) -> subs
        self._position: dict[str, int] = {}  # feed -> last sequence fanned out here
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()

    # --- subscribers -----------------------------------------------------------------------
    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for rooms in self._subs.values() for s in rooms.values())

    def position(self, feed: str) -> int:
        return self._position.get(feed, 0)

    async def register(self, sub: Subscriber) -> None:
        async with self._lock:
            if sub.feed not in self._subs:
                self._position[sub.feed] = await self.head(sub.feed)
                self._subs[sub.feed] = defaultdict(set)
            rooms = self._subs[sub.feed]
            for key in (ALL_ROOMS,) if sub.rooms is None else sub.rooms:
                rooms[key].add(sub)

    def unregister(self, sub: Subscriber) -> None:
        rooms = self._subs.get(sub.feed)
        if rooms is None:
            return
        for key in (ALL_ROOMS,) if sub.rooms is None else sub.rooms:
            rooms[key].discard(sub)
            if not rooms[key]:
                del rooms[key]
        if not rooms:
            del self._subs[sub.feed]
            self._position.pop(sub.feed, None)

    # --- new rows --------------------------------------------------------------------------
    def publish(self, entries: dict[str, list[Entry]]) -> None:
        """Rows this replica has just committed: offered at once when they continue a watched feed
        exactly; otherwise (another commit came first) the feed is re-read from the tables."""
        for feed, rows in entries.items():
            rooms = self._subs.get(feed)
            if rooms is None or not rows:
                continue
            position = self._position[feed]
            if rows[-1].seq <= position:
                continue  # already read from the tables
            if rows[0].seq != position + 1 or feed in self._dirty:
                self.changed(feed)
                continue
            for entry in rows:
                _offer(rooms, entry)
            self._position[feed] = rows[-1].seq

    def changed(self, feed: str) -> None:
        if feed in self._subs:
            self._dirty.add(feed)
            self._wake.set()

    async def _fan_out(self) -> None:
        while not self._stopping.is_set():
            await self._wake.wait()
            self._wake.clear()
            feeds, self._dirty = self._dirty, set()
            for feed in feeds:
                await self._advance(feed)

    async def _advance(self, feed: str) -> None:
        while feed in self._subs:
            after = self._position[feed]
            try:
                entries = await self.fetch(feed, after, self.page)
            except Exception:
                log.exception("reading the feed failed; retrying", extra={"feed": feed})
                self._dirty.add(feed)
                await asyncio.sleep(0.5)
                self._wake.set()
                return
            rooms = self._subs.get(feed)
            if rooms is None or self._position.get(feed) != after:
                return  # every subscriber left meanwhile (or it restarted): nothing to deliver
            for entry in entries:
                _offer(rooms, entry)
                self._position[feed] = entry.seq
            if len(entries) < self.page:
                return

    async def _listen(self) -> None:
        """LISTEN for commits of any replica; reconnects, and re-reads every watched feed after."""
        while not self._stopping.is_set():
            try:
                async with await AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    for feed in list(self._subs):
                        self.changed(feed)
                    async for note in conn.notifies():
                        self.changed(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.listening.clear()
                log.warning("feed LISTEN connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(1.0)

    async def _poll(self) -> None:
        """A notification lost with a dropped connection is covered by a slow re-read."""
        while not self._stopping.is_set():
            await asyncio.sleep(self.poll_s)
            for feed in list(self._subs):
                self.changed(feed)

    def start(self) -> None:
        for name, body in (("hub-listen", self._listen), ("hub-fan-out", self._fan_out), ("hub-poll", self._poll)):
            self._tasks.append(asyncio.create_task(body(), name=name))

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _offer(rooms: dict[str, set[Subscriber]], entry: Entry) -> None:
    """To the streams that see every room, and to those of the entry's room."""
    for sub in rooms.get(ALL_ROOMS, ()):
        sub.offer(entry)
    if entry.room_id:
        for sub in rooms.get(entry.room_id, ()):
            sub.offer(entry)
