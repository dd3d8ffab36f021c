"""The upload client's behaviour when its call breaks (a dropped network, a restarting server)."""

import asyncio
from types import SimpleNamespace
from typing import Any

import grpc
import pytest

from media_ingest.client import Segment, StreamUploader
from proctor.media.v1 import media_ingest_pb2 as pb


class BrokenCall:
    """An UploadChunks call that sends `ready`, acknowledges nothing, then breaks. Like grpc, it reads
    the request iterator in a task of its own."""

    def __init__(self, requests: Any) -> None:
        self.requests = requests
        self.reading = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for _ in self.requests:
            pass

    def __aiter__(self) -> Any:
        return self._frames()

    async def _frames(self) -> Any:
        yield pb.UploadChunksResponse(ready=pb.UploadReady(committed=pb.CommittedOffset()))
        await asyncio.sleep(0.1)  # meanwhile the request iterator fills its window and waits for acks
        raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(),
                                   "connection reset")


async def test_a_broken_call_ends_the_request_iterator():
    calls: list[BrokenCall] = []

    def upload_chunks(requests: Any, metadata: Any) -> BrokenCall:
        calls.append(BrokenCall(requests))
        return calls[-1]

    uploader = StreamUploader(SimpleNamespace(UploadChunks=upload_chunks), (), "stream-1", chunk_bytes=10,
                              max_inflight=2)
    with pytest.raises(grpc.aio.AioRpcError):
        await uploader.upload([Segment(b"x" * 100)])
    assert uploader.stats.chunks_sent == 2  # the window was full when the call broke
    async with asyncio.timeout(2):  # no request iterator left waiting for an ack that will never come
        await calls[0].reading
