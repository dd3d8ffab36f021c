"""A candidate's network connection to one service, as a TCP relay the fault campaign can cut.

``Cable.cut_mid_upload`` waits for the next large client->server write (an upload chunk on the wire:
larger than a call with one live still, ``SEGMENT_WRITE_BYTES``), forwards only the first half of it,
then resets every connection through the cable and refuses new ones for ``down_s`` seconds: the server
sees a half-received HTTP/2 frame and a reset, the client an UNAVAILABLE in the middle of its upload,
exactly as when a home router drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

READ_BYTES = 64 * 1024
# a write at least this large is segment data: a SubmitStills call with one still (a 640x360 JPEG) is
# 10-40 KB, while a segment goes up in 256-KiB chunks, read here in READ_BYTES pieces
SEGMENT_WRITE_BYTES = 48 * 1024


@dataclass
class CutReport:
    at: float = 0.0  # wall time of the cut
    forwarded_of_write: int = 0  # bytes of the interrupted write that reached the server
    write_bytes: int = 0
    connections_reset: int = 0
    refused_while_down: int = 0
    down_s: float = 0.0


@dataclass
class _Armed:
    min_bytes: int
    down_s: float
    done: asyncio.Future[CutReport]


@dataclass
class Cable:
    upstream_host: str
    upstream_port: int
    _server: asyncio.AbstractServer | None = None
    _links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = field(default_factory=set)
    _armed: _Armed | None = None
    _down_until: float = 0.0
    _report: CutReport | None = None
    port: int = 0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for a, b in list(self._links):
            _reset(a)
            _reset(b)
        self._links.clear()

    def cut_mid_upload(self, down_s: float, min_bytes: int = SEGMENT_WRITE_BYTES) -> asyncio.Future[CutReport]:
        """Arm the cut; the future resolves when it happened (with what was cut)."""
        done: asyncio.Future[CutReport] = asyncio.get_running_loop().create_future()
        self._armed = _Armed(min_bytes, down_s, done)
        return done

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if time.monotonic() < self._down_until:  # the network is down: the connection attempt fails
            if self._report is not None:
                self._report.refused_while_down += 1
            _reset(client_w)
            return
        try:
            up_r, up_w = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        except OSError:
            _reset(client_w)  # the service itself is down: the client sees the refusal
            return
        link = (client_w, up_w)
        self._links.add(link)
        try:
            await asyncio.gather(self._pump(client_r, up_w, upstream=True), self._pump(up_r, client_w, upstream=False))
        finally:
            self._links.discard(link)
            _reset(client_w)
            _reset(up_w)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
            while True:
                data = await reader.read(READ_BYTES)
                if not data:
                    break
                armed = self._armed
                if upstream and armed is not None and len(data) >= armed.min_bytes:
                    half = len(data) // 2
                    writer.write(data[:half])
                    with contextlib.suppress(ConnectionError, OSError):
                        await writer.drain()
                    self._cut(armed, half, len(data))
                    return
                writer.write(data)
                await writer.drain()

    def _cut(self, armed: _Armed, forwarded: int, size: int) -> None:
        self._armed = None
        self._down_until = time.monotonic() + armed.down_s
        self._report = CutReport(at=time.time(), forwarded_of_write=forwarded, write_bytes=size,
                                 connections_reset=len(self._links), down_s=armed.down_s)
        for a, b in list(self._links):
            _reset(a)
            _reset(b)
        if not armed.done.done():
            armed.done.set_result(self._report)


def _reset(writer: Any) -> None:
    """Close with a TCP reset (no orderly FIN): what a dropped network looks like to the other side."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()
