"""The shared service host: health, reflection, auth, error mapping, metrics, shutdown order."""

import asyncio
import urllib.request

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import SecretStr

from proctor.common.v1 import common_pb2
from proctor_runtime.context import current_claims
from proctor_runtime.errors import FailedPrecondition, NotFound
from proctor_runtime.interceptor import ERROR_DETAIL_KEY
from proctor_runtime.service import ServiceHost
from proctor_runtime.settings import BaseServiceSettings
from proctor_runtime.tokens import Role, TokenSigner, generate_key, require_role

SERVICE = "test.Echo"
SIGNING, PUBLIC = generate_key("t1")


async def say(request: bytes, context) -> bytes:
    if request == b"missing":
        raise NotFound("THING_NOT_FOUND", "no such thing", "找不到该对象", {"id": "42"})
    if request == b"late":
        raise FailedPrecondition("ENTRY_CLOSED", "entry closed at 10:30", "截止进入时间已过")
    if request == b"bug":
        raise RuntimeError("secret internals")
    if request == b"db-down":
        raise psycopg.OperationalError("server closed the connection unexpectedly")
    claims = require_role(current_claims(), Role.CANDIDATE, Role.STAFF)
    return f"{claims.sub}:{request.decode()}".encode()


async def count(request: bytes, context):
    for i in range(int(request)):
        yield str(i).encode()
    if request == b"2":
        raise NotFound("GONE", "stream source vanished", "数据源不存在")


async def public_ping(request: bytes, context) -> bytes:
    return b"pong"


def echo_handler() -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(SERVICE, {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Ping": grpc.unary_unary_rpc_method_handler(public_ping),
    })


def make_host(gate: asyncio.Event | None = None) -> ServiceHost:
    settings = BaseServiceSettings(service_name="echo", token_public_keys=PUBLIC,
                                   token_signing_key=SecretStr(SIGNING), shutdown_grace_s=1)
    host = ServiceHost(settings, [SERVICE], public_methods=[f"/{SERVICE}/Ping"])
    host.server.add_generic_rpc_handlers((echo_handler(),))
    if gate is not None:
        host.start_hooks.append(gate.wait)
    return host


def token(role: Role = Role.CANDIDATE, sub: str = "cand-1") -> str:
    return TokenSigner(SIGNING).issue(sub=sub, role=role, ttl_s=60)[0]


@pytest.fixture
async def host():
    h = make_host()
    await h.start()
    yield h
    await h.stop()


async def call(host: ServiceHost, method: str, payload: bytes, tok: str | None = None):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        rpc = channel.unary_unary(f"/{SERVICE}/{method}")
        metadata = (("authorization", f"Bearer {tok}"),) if tok else None
        return await rpc(payload, metadata=metadata, timeout=5)


def detail_of(err: grpc.aio.AioRpcError) -> common_pb2.ErrorDetail:
    for key, value in err.trailing_metadata() or ():
        if key == ERROR_DETAIL_KEY:
            return common_pb2.ErrorDetail.FromString(value)
    raise AssertionError("no error detail")


async def test_health_is_not_serving_until_start_hooks_finish():
    gate = asyncio.Event()
    h = make_host(gate)
    start = asyncio.create_task(h.start())
    while not h.port:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{h.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        check = health_pb2.HealthCheckRequest(service=SERVICE)
        assert (await stub.Check(check)).status == health_pb2.HealthCheckResponse.NOT_SERVING
        gate.set()
        await start
        assert (await stub.Check(check)).status == health_pb2.HealthCheckResponse.SERVING
        assert (await stub.Check(health_pb2.HealthCheckRequest())).status == \
            health_pb2.HealthCheckResponse.SERVING
    await h.stop()


async def test_authenticated_call_sees_its_claims(host):
    assert await call(host, "Say", b"hi", token()) == b"cand-1:hi"


async def test_missing_token_is_unauthenticated_except_public_methods(host):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(host, "Say", b"hi")
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert detail_of(err.value).reason == "TOKEN_MISSING"
    assert await call(host, "Ping", b"") == b"pong"


async def test_forged_token_and_wrong_role(host):
    other_signing, _ = generate_key("t1")  # same kid, different key: a forgery
    forged = TokenSigner(other_signing).issue(sub="x", role=Role.STAFF, ttl_s=60)[0]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(host, "Say", b"hi", forged)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(host, "Say", b"hi", token(Role.PROCTOR))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_domain_errors_map_to_precise_codes_with_bilingual_detail(host):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(host, "Say", b"missing", token())
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    detail = detail_of(err.value)
    assert detail.reason == "THING_NOT_FOUND" and detail.message_zh == "找不到该对象"
    assert detail.metadata["id"] == "42" and detail.metadata["request_id"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(host, "Say", b"late", token())
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.details() == "截止进入时间已过 / entry closed at 10:30"


async def test_unexpected_exception_is_internal_without_internals(host):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(host, "Say", b"bug", token())
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "secret internals" not in (err.value.details() or "")
    assert "request id" in (err.value.details() or "")


async def test_a_database_outage_is_unavailable_with_a_retry_hint(host):
    """A call that loses its database connection (PostgreSQL crashed or fails over) is retryable."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(host, "Say", b"db-down", token())
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    detail = detail_of(err.value)
    assert detail.reason == "DATABASE_UNAVAILABLE" and detail.message_zh and detail.metadata["retry_after_ms"]
    assert "server closed" not in (err.value.details() or "")


async def test_server_streaming_errors_are_mapped_too(host):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        rpc = channel.unary_stream(f"/{SERVICE}/Count")
        got = [x async for x in rpc(b"3", metadata=(("authorization", f"Bearer {token()}"),))]
        assert got == [b"0", b"1", b"2"]
        items = []
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for x in rpc(b"2", metadata=(("authorization", f"Bearer {token()}"),)):
                items.append(x)
        assert items == [b"0", b"1"]
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_service(host):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        async for response in responses:
            names = {s.name for s in response.list_services_response.service}
            assert {SERVICE, "grpc.health.v1.Health"} <= names
            break


async def test_metrics_endpoint_counts_rpcs_by_code(host):
    await call(host, "Say", b"hi", token())
    with pytest.raises(grpc.aio.AioRpcError):
        await call(host, "Say", b"missing", token())
    body = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://127.0.0.1:{host.metrics_port}/metrics").read())
    text = body.decode()
    assert 'proctor_grpc_server_handled_total{code="OK",method="/test.Echo/Say",service="echo"}' in text
    assert 'code="NOT_FOUND",method="/test.Echo/Say"' in text
    assert 'proctor_service_ready{service="echo"} 1.0' in text


async def test_stop_turns_health_off_before_the_server_stops():
    h = make_host()
    await h.start()
    seen = []
    original = h.server.stop

    async def spy_stop(grace):
        seen.append((await h.health.Check(health_pb2.HealthCheckRequest(service=SERVICE),
                                          None)).status)
        return await original(grace)

    h.server.stop = spy_stop  # type: ignore[method-assign]
    await h.stop()
    assert seen == [health_pb2.HealthCheckResponse.NOT_SERVING]
