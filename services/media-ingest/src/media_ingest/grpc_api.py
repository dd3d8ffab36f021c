"""gRPC servicer: protobuf in, protobuf out; the rules live in ``uploads``/``stills``/``domain``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from media_ingest.stills import Stills
from media_ingest.uploads import Uploads
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor.media.v1 import media_ingest_pb2_grpc as pb_grpc
from proctor_runtime.context import current_claims

SERVICE = "proctor.media.v1.MediaIngest"
Ctx = grpc.aio.ServicerContext


class MediaIngestServicer(pb_grpc.MediaIngestServicer):
    def __init__(self, uploads: Uploads, stills: Stills) -> None:
        self.uploads = uploads
        self.stills = stills

    async def OpenStream(self, request: pb.OpenStreamRequest, context: Ctx) -> pb.OpenStreamResponse:
        return await self.uploads.open_stream(current_claims(), request)

    async def UploadChunks(self, request_iterator: AsyncIterator[pb.UploadChunksRequest],
                           context: Ctx) -> AsyncIterator[pb.UploadChunksResponse]:
        async for frame in self.uploads.upload(current_claims(), request_iterator):
            yield frame

    async def SubmitStills(self, request: pb.SubmitStillsRequest, context: Ctx) -> pb.SubmitStillsResponse:
        return await self.stills.submit(current_claims(), request)

    async def AppendChunk(self, request: pb.AppendChunkRequest, context: Ctx) -> pb.AppendChunkResponse:
        chunk_ack, segment_ack = await self.uploads.append(current_claims(), request.chunk)
        out = pb.AppendChunkResponse(chunk_ack=chunk_ack)
        if segment_ack is not None:
            out.segment_ack.CopyFrom(segment_ack)
        return out

    async def GetCommittedOffset(self, request: pb.GetCommittedOffsetRequest, context: Ctx) -> pb.CommittedOffset:
        return await self.uploads.committed_offset(current_claims(), request.stream_id)

    async def CloseStream(self, request: pb.CloseStreamRequest, context: Ctx) -> pb.CloseStreamResponse:
        return await self.uploads.close(current_claims(), request)

    async def GetUploadStatus(self, request: pb.GetUploadStatusRequest, context: Ctx) -> pb.CandidateUploadStatus:
        return await self.uploads.upload_status(current_claims(), request)

    async def GetManifest(self, request: pb.GetManifestRequest, context: Ctx) -> pb.Manifest:
        return await self.uploads.manifest(current_claims(), request)
