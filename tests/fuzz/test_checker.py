"""The checker itself: pointed at a deliberately broken handler behind the real interceptor it must
report the INTERNAL, a refusal without Chinese text, a missing ErrorDetail; and accept a precise
refusal, a success and gRPC's own size limit. Also: the descriptor strategies build sendable
messages of every request type."""

import grpc
import pytest
from fuzz_check import Outcome, call_raw, close_fuzz_channel, fuzz_channel, judge
from fuzz_protos import Pool, giant_inputs, grpc_services, message_class, message_strategy
from fuzz_settings import campaign
from hypothesis import given

from proctor.common.v1 import common_pb2
from proctor_runtime.errors import InvalidArgument
from proctor_runtime.interceptor import ServiceInterceptor
from proctor_runtime.tokens import TokenVerifier

REFUSAL = InvalidArgument("FIELD_INVALID", "name is invalid", "名称无效", {"field": "name"})


async def _crash(request, context):
    return 1 // 0  # the bug the campaign must never see


async def _refuse(request, context):
    raise REFUSAL


async def _english_only(request, context):
    raise InvalidArgument("FIELD_INVALID", "name is invalid")


async def _bare_abort(request, context):
    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "no detail")


async def _ok(request, context):
    return request


async def _stream_crash(request, context):
    yield request
    raise KeyError("boom")


def _handlers():
    des = common_pb2.LocalizedText.FromString
    ser = common_pb2.LocalizedText.SerializeToString
    unary = {name: grpc.unary_unary_rpc_method_handler(fn, request_deserializer=des, response_serializer=ser)
             for name, fn in {"Crash": _crash, "Refuse": _refuse, "EnglishOnly": _english_only,
                              "BareAbort": _bare_abort, "Ok": _ok}.items()}
    unary["StreamCrash"] = grpc.unary_stream_rpc_method_handler(_stream_crash, request_deserializer=des,
                                                                response_serializer=ser)
    return grpc.method_handlers_generic_handler("fuzz.Broken", unary)


@pytest.fixture(scope="module")
async def broken():
    interceptor = ServiceInterceptor("broken", TokenVerifier([]), public_methods=[
        f"/fuzz.Broken/{m}" for m in ("Crash", "Refuse", "EnglishOnly", "BareAbort", "Ok", "StreamCrash")])
    server = grpc.aio.server(interceptors=[interceptor], options=[("grpc.max_receive_message_length", 1 << 20)])
    server.add_generic_rpc_handlers([_handlers()])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = fuzz_channel(f"127.0.0.1:{port}")
    yield channel
    await close_fuzz_channel(channel)
    await server.stop(0)


GOOD = common_pb2.LocalizedText(en="hi", zh="你好").SerializeToString()


async def _call(channel, method, raw=GOOD, stream=False) -> Outcome:
    return await call_raw(channel, f"/fuzz.Broken/{method}", False, stream, [raw])


async def test_the_checker_catches_an_internal_error(broken):
    outcome = await _call(broken, "Crash")
    assert outcome.code == grpc.StatusCode.INTERNAL
    assert judge(outcome).startswith("INTERNAL")
    streamed = await _call(broken, "StreamCrash", stream=True)
    assert streamed.items == 1 and judge(streamed).startswith("INTERNAL")


async def test_the_checker_wants_a_detail_with_both_languages(broken):
    assert "no Chinese message" in judge(await _call(broken, "EnglishOnly"))
    assert "without ErrorDetail" in judge(await _call(broken, "BareAbort"))
    refused = await _call(broken, "Refuse")
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT and refused.detail.reason == "FIELD_INVALID"
    assert judge(refused) is None
    assert judge(await _call(broken, "Ok")) is None


async def test_the_transport_size_limit_is_the_only_refusal_without_detail(broken):
    outcome = await _call(broken, "Ok", raw=b"\x0a" + b"\x80\x80\x80\x01" + b"a" * (2 << 20))
    assert outcome.code == grpc.StatusCode.RESOURCE_EXHAUSTED and outcome.detail is None
    assert judge(outcome) is None
    assert judge(Outcome(grpc.StatusCode.RESOURCE_EXHAUSTED, "rate limited")) is not None
    assert judge(Outcome(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")) is not None


async def test_undecodable_bytes_get_a_precise_refusal(broken):
    outcome = await _call(broken, "Ok", raw=b"\x0a\xff\xff\x03junk")
    assert judge(outcome) is None, outcome


REQUEST_TYPES = sorted({m.input_type.full_name: m.input_type for s in grpc_services() for m in s.methods}.items())


@pytest.mark.parametrize("descriptor", [d for _, d in REQUEST_TYPES], ids=[n for n, _ in REQUEST_TYPES])
def test_every_request_type_has_a_strategy_that_serialises(descriptor):
    pool = Pool({"sitting_id": ["s-1"]})
    cls = message_class(descriptor)

    @campaign(0.4)
    @given(message_strategy(descriptor, pool))
    def roundtrip(msg):
        raw = msg.SerializeToString()
        assert cls.FromString(raw) == msg

    roundtrip()
    labels = [label for label, _, _ in giant_inputs(cls())]
    assert labels == ["huge_fields", "many_items", "over_limit"]
