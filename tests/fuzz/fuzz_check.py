"""Sending raw requests to any RPC, judging the answer, and counting what was tried.

The property (``judge``): a call either succeeds, or fails with a status that is neither INTERNAL
nor UNKNOWN (nor a hang: DEADLINE_EXCEEDED on our generous deadline, nor UNAVAILABLE: a dead server)
and carries a parseable ``ErrorDetail`` in ``proctor-error-bin`` with an UPPER_SNAKE reason and an
English and a Chinese text. The one exception is gRPC's own message-size limit: RESOURCE_EXHAUSTED
without a detail, produced by the transport before any handler runs.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from proctor.common.v1 import common_pb2
from proctor_runtime.interceptor import ERROR_DETAIL_KEY

Metadata = tuple[tuple[str, str], ...]
REASON = re.compile(r"^[A-Z][A-Z0-9_]*$")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
TRANSPORT_LIMIT = re.compile(r"(larger than max|message too large|exceeds? .*limit)", re.IGNORECASE)
CALL_TIMEOUT_S = 30.0


@dataclass
class Outcome:
    code: grpc.StatusCode
    details: str = ""
    detail: common_pb2.ErrorDetail | None = None
    detail_error: str = ""
    items: int = 0            # server-stream items read
    cancelled_by_us: bool = False  # a live stream we stopped reading (not an answer)
    responses: list[bytes] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.cancelled_by_us:
            return "STREAM_OPEN"
        if self.detail is not None:
            return f"{self.code.name}:{self.detail.reason}"
        return self.code.name


def _error_detail(trailing: Any) -> tuple[common_pb2.ErrorDetail | None, str]:
    for key, value in trailing or ():
        if key == ERROR_DETAIL_KEY:
            try:
                return common_pb2.ErrorDetail.FromString(value), ""
            except DecodeError as exc:
                return None, f"unparseable ErrorDetail: {exc}"
    return None, ""


def outcome_of_error(err: grpc.aio.AioRpcError, items: int = 0) -> Outcome:
    found, problem = _error_detail(err.trailing_metadata())
    return Outcome(err.code(), err.details() or "", found, problem, items)


def judge(outcome: Outcome) -> str | None:
    """Why this outcome breaks the property, or None when it is a success or a precise refusal."""
    code = outcome.code
    if outcome.cancelled_by_us or code == grpc.StatusCode.OK:
        return None
    if code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
        return f"{code.name}: {outcome.details[:200]}"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED and outcome.detail is None:
        return f"no answer within {CALL_TIMEOUT_S:.0f} s (a hang)"
    if code == grpc.StatusCode.UNAVAILABLE and outcome.detail is None:
        return f"UNAVAILABLE without detail (server gone?): {outcome.details[:200]}"
    if outcome.detail_error:
        return outcome.detail_error
    if outcome.detail is None:
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED and TRANSPORT_LIMIT.search(outcome.details):
            return None  # gRPC's own message-size limit, before any handler
        return f"{code.name} without ErrorDetail: {outcome.details[:200]}"
    detail = outcome.detail
    if not REASON.match(detail.reason):
        return f"{code.name}: reason {detail.reason!r} is not an UPPER_SNAKE machine code"
    if not detail.message_en.strip():
        return f"{code.name} {detail.reason}: no English message"
    if not CJK.search(detail.message_zh):
        return f"{code.name} {detail.reason}: no Chinese message (zh={detail.message_zh!r})"
    return None


CHANNEL_OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
_SYNC_TWINS: dict[int, grpc.Channel] = {}


def fuzz_channel(address: str) -> grpc.aio.Channel:
    """A channel without client-side size limits (the server's limits are under test), with a blocking
    twin for client-streaming calls: when the server refuses a client stream before reading it, the
    asyncio client loses the server's status about half of the time (it reports INTERNAL "Internal
    error from Core" from its own failed write); the blocking client never does."""
    channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    _SYNC_TWINS[id(channel)] = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
    return channel


async def close_fuzz_channel(channel: grpc.aio.Channel) -> None:
    twin = _SYNC_TWINS.pop(id(channel), None)
    if twin is not None:
        twin.close()
    await channel.close()


def _client_stream(twin: grpc.Channel, path: str, server_streaming: bool, requests: Sequence[bytes],
                   metadata: Metadata, max_items: int, item_wait_s: float) -> Outcome:
    if not server_streaming:
        try:
            reply = twin.stream_unary(path)(iter(requests), metadata=metadata, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as err:
            return _sync_error(err)
        return Outcome(grpc.StatusCode.OK, responses=[reply])
    call = twin.stream_stream(path)(iter(requests), metadata=metadata, timeout=CALL_TIMEOUT_S)
    out: list[bytes] = []
    stop = threading.Timer(item_wait_s * max_items, call.cancel)
    stop.start()
    try:
        for item in call:
            out.append(item)
            if len(out) >= max_items:
                call.cancel()
                return Outcome(grpc.StatusCode.OK, items=len(out), cancelled_by_us=True, responses=out)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.CANCELLED and not stop.is_alive():
            return Outcome(grpc.StatusCode.OK, items=len(out), cancelled_by_us=True, responses=out)
        return _sync_error(err, len(out))
    finally:
        stop.cancel()
    return Outcome(grpc.StatusCode.OK, items=len(out), responses=out)


def _sync_error(err: Any, items: int = 0) -> Outcome:
    found, problem = _error_detail(err.trailing_metadata())
    return Outcome(err.code(), err.details() or "", found, problem, items)


async def call_raw(channel: grpc.aio.Channel, path: str, client_streaming: bool, server_streaming: bool,
                   requests: Sequence[bytes], metadata: Metadata = (), max_items: int = 5,
                   item_wait_s: float = 1.5) -> Outcome:
    """Send raw request bytes (one, or several for a client stream, then half-close) to ``path``;
    read at most ``max_items`` responses of a server stream, each within ``item_wait_s`` (a stream
    that is still open afterwards is cancelled: ``cancelled_by_us``)."""
    kwargs: dict[str, Any] = {"metadata": metadata, "timeout": CALL_TIMEOUT_S}
    if client_streaming:
        twin = _SYNC_TWINS[id(channel)]  # channels from fuzz_channel only
        return await asyncio.to_thread(_client_stream, twin, path, server_streaming, list(requests), metadata,
                                       max_items, item_wait_s)
    if not server_streaming:
        try:
            reply = await channel.unary_unary(path)(requests[0], **kwargs)
        except grpc.aio.AioRpcError as err:
            return outcome_of_error(err)
        return Outcome(grpc.StatusCode.OK, responses=[reply])
    call: Any = channel.unary_stream(path)(requests[0], **kwargs)
    out: list[bytes] = []
    try:
        while len(out) < max_items:
            try:
                async with asyncio.timeout(item_wait_s):
                    item = await call.read()
            except TimeoutError:
                break
            if item is grpc.aio.EOF:
                code = await call.code()
                if code != grpc.StatusCode.OK:
                    return Outcome(code, await call.details() or "", *_error_detail(await call.trailing_metadata()),
                                   items=len(out))
                return Outcome(grpc.StatusCode.OK, items=len(out), responses=out)
            out.append(item)
    except grpc.aio.AioRpcError as err:
        return outcome_of_error(err, len(out))
    call.cancel()
    return Outcome(grpc.StatusCode.OK, items=len(out), cancelled_by_us=True, responses=out)


# --- counting -----------------------------------------------------------------------------------

@dataclass
class Tally:
    """Inputs tried per service, method and kind of input, with the outcomes' codes."""

    inputs: dict[str, dict[str, dict[str, int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(int))))
    codes: dict[str, dict[str, dict[str, int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(int))))
    violations: list[dict[str, str]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def record(self, service: str, method: str, kind: str, outcome: Outcome | str) -> None:
        self.inputs[service][method][kind] += 1
        label = outcome if isinstance(outcome, str) else outcome.label
        self.codes[service][method][label] += 1

    def violation(self, service: str, method: str, kind: str, problem: str, sample: str) -> None:
        self.violations.append({"service": service, "method": method, "kind": kind, "problem": problem,
                                "input": sample[:300]})

    def total(self) -> int:
        return sum(n for methods in self.inputs.values() for kinds in methods.values() for n in kinds.values())

    def per_service(self) -> dict[str, int]:
        return {svc: sum(n for kinds in methods.values() for n in kinds.values())
                for svc, methods in sorted(self.inputs.items())}

    def report(self, examples: int) -> dict[str, Any]:
        services: dict[str, Any] = {}
        for svc, methods in sorted(self.inputs.items()):
            services[svc] = {"inputs": sum(sum(k.values()) for k in methods.values()), "methods": {
                m: {"inputs": sum(kinds.values()), "by_kind": dict(sorted(kinds.items())),
                    "outcomes": dict(sorted(self.codes[svc][m].items()))}
                for m, kinds in sorted(methods.items())}}
        return {"total_inputs": self.total(), "per_service": self.per_service(), "examples_setting": examples,
                "seconds": round(time.monotonic() - self.started, 1), "violations": self.violations,
                "services": services}

    def summary(self) -> str:
        parts = ", ".join(f"{svc} {n}" for svc, n in self.per_service().items())
        return f"fuzz: {self.total()} inputs ({parts}); {len(self.violations)} property violations"

    def write(self, path: Path, examples: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.report(examples), indent=1, ensure_ascii=False) + "\n")


TALLY = Tally()
