"""The start-up contract: health NOT_SERVING and RPCs UNAVAILABLE NOT_READY until the model pack
is loaded and warm (it loads on the inference thread in a start hook)."""

import asyncio
import threading

import grpc
import pytest
from auth_harness import START, Clock, refused
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr

from auth_face.app import build
from auth_face.config import Settings
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor.common.v1 import common_pb2
from proctor_faces import FacesSettings, load_pack
from proctor_runtime.tokens import generate_key

pytestmark = pytest.mark.infra


async def test_not_serving_until_the_pack_is_warm(pg_dsn, topics_ready, pack):
    """Health stays NOT_SERVING and RPCs answer UNAVAILABLE NOT_READY while the pack loads."""
    release = threading.Event()

    def slow_loader(settings: FacesSettings):
        release.wait(30)
        return load_pack(settings)

    signing, public = generate_key("auth-face-t")
    host = await build(Settings(database_url=SecretStr(pg_dsn), kafka_bootstrap=topics_ready,
                                kafka_offset_reset="latest", token_signing_key=SecretStr(signing),
                                token_public_keys=public, shutdown_grace_s=1), Clock(START), loader=slow_loader)
    starting = asyncio.create_task(host.start())
    try:
        while not host.port:
            await asyncio.sleep(0.05)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            stub = auth_face_pb2_grpc.AuthFaceStub(channel)
            for _ in range(100):
                try:
                    status = await health.Check(health_pb2.HealthCheckRequest(service="proctor.auth.v1.AuthFace"))
                    break
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.05)
            assert status.status == health_pb2.HealthCheckResponse.NOT_SERVING
            got = await refused(stub.StartLivenessChallenge(pb.StartLivenessChallengeRequest(
                sitting_id="s", candidate_id="c", device=common_pb2.DeviceInfo(device_id="d"))),
                grpc.StatusCode.UNAVAILABLE, "NOT_READY")
            assert int(got.metadata["retry_after_ms"]) > 0
            release.set()
            await asyncio.wait_for(starting, 30)
            status = await health.Check(health_pb2.HealthCheckRequest(service="proctor.auth.v1.AuthFace"))
            assert status.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        release.set()
        if not starting.done():
            await starting
        await host.stop()
