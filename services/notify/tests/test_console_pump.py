"""The console's SSE relay in isolation: a browser that stops reading is dropped (by write timeout or
by queue overflow) without slowing another browser fed at the same time; a gRPC error becomes one
``error`` event with the HTTP status and both languages."""

import asyncio

import grpc
from grpc.aio import AioRpcError, Metadata

from notify.console.feed import FeedLimits, FeedPump
from proctor.common.v1 import common_pb2 as c
from proctor.notify.v1 import notify_pb2 as pb
from proctor_runtime.interceptor import ERROR_DETAIL_KEY


def items(count: int):
    return [pb.ProctorFeedItem(cursor=f"cur-{i}", sequence=i + 1, incident=pb.IncidentUpdate(
        kind=pb.INCIDENT_UPDATE_KIND_OPENED, incident=pb.IncidentView(
            incident=c.Incident(incident_id=f"inc-{i}", evidence=[c.Evidence(thumbnail_uri="file:///x.jpg")]))))
            for i in range(count)]


async def upstream(feed, then=None, forever=False):
    for item in feed:
        yield item
        await asyncio.sleep(0)
    if then is not None:
        raise then
    if forever:
        await asyncio.Event().wait()


class Sink:
    def __init__(self, stuck_after: int | None = None):
        self.chunks: list[bytes] = []
        self.stuck_after = stuck_after

    async def write(self, chunk: bytes) -> None:
        if self.stuck_after is not None and len(self.chunks) >= self.stuck_after:
            await asyncio.Event().wait()  # the browser stopped reading: the socket never drains
        self.chunks.append(chunk)


async def test_a_browser_that_stops_reading_is_dropped_and_others_keep_flowing():
    limits = FeedLimits(queue_items=64, write_timeout_s=0.3, heartbeat_s=5)
    stuck, healthy = Sink(stuck_after=2), Sink()
    slow = FeedPump(upstream(items(3), forever=True), stuck.write, limits, "slow")
    fast = FeedPump(upstream(items(50)), healthy.write, limits, "fast")
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(5):
        outcomes = await asyncio.gather(slow.run(), fast.run())
    assert outcomes == ["too_slow", "upstream_end"]
    assert len(healthy.chunks) == 50
    assert b"id: cur-49\nevent: incident\n" in healthy.chunks[-1]
    assert b"file://" not in b"".join(healthy.chunks)  # storage URIs are replaced by console URLs
    assert b"/api/v1/incidents/inc-0/evidence/0/thumbnail" in healthy.chunks[0]
    assert asyncio.get_running_loop().time() - started < 2


async def test_queue_overflow_drops_the_browser_at_once():
    limits = FeedLimits(queue_items=8, write_timeout_s=60, heartbeat_s=60)
    stuck = Sink(stuck_after=0)
    pump = FeedPump(upstream(items(100), forever=True), stuck.write, limits, "overflow")
    async with asyncio.timeout(2):  # long before the write timeout
        assert await pump.run() == "too_slow"


async def test_an_upstream_error_ends_the_stream_with_one_error_event():
    detail = c.ErrorDetail(reason="SUBSCRIBER_TOO_SLOW", message_en="the stream fell too far behind",
                           message_zh="连接过慢已断开")
    error = AioRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, Metadata(),
                        Metadata((ERROR_DETAIL_KEY, detail.SerializeToString())), details="too slow")
    sink = Sink()
    pump = FeedPump(upstream(items(2), then=error), sink.write, FeedLimits(), "err")
    async with asyncio.timeout(2):
        assert await pump.run() == "upstream_error"
    last = sink.chunks[-1].decode()
    assert last.startswith("event: error\ndata: ")
    assert '"http_status":429' in last and '"reason":"SUBSCRIBER_TOO_SLOW"' in last and "连接过慢已断开" in last
    assert len(sink.chunks) == 3
