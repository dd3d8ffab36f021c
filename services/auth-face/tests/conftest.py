"""A real auth-face (in process) on the real PostgreSQL and Kafka with the real default model pack
(loaded once per test session), a controllable clock and a controllable liveness challenge; real
faces from scikit-image, the insightface wheel and the shared test data."""

import asyncio
import importlib.util
import uuid
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from auth_harness import CLIP_STEPS, START, Clock, Harness, jpeg
from pydantic import SecretStr

from auth_face.app import build
from auth_face.config import Settings
from auth_face.crypto import generate_key as template_key
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor_faces import FacesSettings, load_pack
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.tokens import TokenSigner, TokenVerifier, generate_key
from proctor_runtime.topics import SESSION_EVENTS, ensure_topics, new_topics


@pytest.fixture(scope="session")
def pack():
    """The default pack, loaded and warmed once; the services built in the tests reuse it."""
    return load_pack(FacesSettings())


@pytest.fixture(scope="session")
def topics_ready(kafka_bootstrap):
    ensure_topics(kafka_bootstrap, new_topics())
    return kafka_bootstrap


def _insightface_image(name: str) -> bytes:
    spec = importlib.util.find_spec("insightface")
    assert spec is not None and spec.submodule_search_locations
    return (Path(next(iter(spec.submodule_search_locations))) / "data" / "images" / name).read_bytes()


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """Real photos that ship with the installed packages, as the bytes a client would upload."""
    from skimage import data

    return {
        "astronaut": jpeg(cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR)),
        "hanks": _insightface_image("Tom_Hanks_54745.png"),
        "group": _insightface_image("t1.jpg"),
        "coffee": jpeg(cv2.cvtColor(np.asarray(data.coffee()), cv2.COLOR_RGB2BGR)),
    }


@pytest.fixture(scope="session")
def lamia(shared_faces) -> dict[str, object]:
    """lamia_head_turns.webm (turns to her left, looks up, turns right, faces the camera): every third
    frame as a JPEG with its time, plus a frontal frame of the same source as the ID photo."""
    cap = cv2.VideoCapture(str(shared_faces / "video" / "lamia_head_turns.webm"))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames, i = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % 3 == 0:
            frames.append((i / fps, jpeg(frame, 85)))
        i += 1
    cap.release()
    assert len(frames) >= 90
    away = shared_faces / "pose_away"
    return {"frames": frames, "id_photo": (away / "lamia_video_frame240.jpg").read_bytes(),
            "looking_up": (away / "lamia_video_frame060.jpg").read_bytes(),
            "masked": (shared_faces / "masked" / "with_mask" / "mask_bing_with_mask011.jpg").read_bytes()}


@pytest.fixture
async def make_auth(pg_dsn, topics_ready, pack):
    """Build and start auth-face hosts (sharing this test's database); stopped at the end."""
    made: list[Harness] = []
    auth_signing, auth_public = generate_key("auth-face-test-1")
    admin_signing, admin_public = generate_key("admin-test-1")

    async def make(wait_consumer: bool = False, **overrides) -> Harness:
        group = f"auth-face-test-{uuid.uuid4().hex[:6]}"
        start_group_at_end(topics_ready, group, [SESSION_EVENTS.name])
        settings = Settings(
            database_url=SecretStr(pg_dsn), kafka_bootstrap=topics_ready,
            kafka_group_id=group, kafka_offset_reset="earliest",
            token_signing_key=SecretStr(auth_signing), token_public_keys=f"{auth_public},{admin_public}",
            template_keys=SecretStr(template_key("tk-test-1")), shutdown_grace_s=1,
            prelogin_per_candidate_per_minute=overrides.pop("prelogin_per_candidate_per_minute", 1000),
            **overrides)
        clock = Clock(START)
        steps = list(CLIP_STEPS)
        host = await build(settings, clock, challenge=lambda: list(steps))
        await host.start()
        if wait_consumer:
            async with asyncio.timeout(30):
                await host.consumers[0].ready.wait()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{host.port}")
        h = Harness(auth_face_pb2_grpc.AuthFaceStub(channel), channel, host, clock, TokenSigner(admin_signing),
                    TokenVerifier([auth_public], clock=lambda: clock.now.timestamp()), steps, topics_ready)
        made.append(h)
        return h

    yield make
    for h in made:
        await h.channel.close()
        await h.host.stop()


@pytest.fixture
async def auth(make_auth) -> Harness:
    return await make_auth()
