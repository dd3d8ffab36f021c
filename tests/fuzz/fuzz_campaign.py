"""The campaign against one gRPC service, the same for every service: a ``Target`` describes the
running service (channel, credentials, seeds, the victim's ids and how to read the victim's state),
``campaign_tests`` makes the tests for every method of the service's descriptor.

Order inside a test module (pytest keeps definition order):
1. ``test_bad_tokens``: every bad credential on every method (seed aimed at the victim):
   UNAUTHENTICATED (any precise outcome for the pre-login public methods);
2. ``test_wrong_parties``: valid tokens of the wrong party (another candidate, another phone, a
   proctor of another room, a candidate of another sitting, a candidate on staff RPCs): precise;
3. ``test_mutated_requests``: the victim's seed mutated (field flips, byte surgery), sent with the
   wrong parties' (half of the time) and bad credentials: precise;
4. ``test_giant_inputs``: 1 MB fields, 6000-item lists, a 9 MB request: precise or gRPC's size limit;
5. ``test_victim_unchanged``: the victim's state equals the one read before the garbage;
6. ``test_random_requests``: random protobufs and mutations of the fuzzee's seeds with any
   credential, the real owner's and staff's included: precise;
7. ``test_still_serving``: health SERVING and a known-good request still answered correctly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from fuzz_check import TALLY, Outcome, call_raw, judge
from fuzz_protos import Pool, giant_inputs, grpc_services, message_strategy, mutation_strategy, seed_request
from fuzz_settings import campaign
from google.protobuf import descriptor as d
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given
from hypothesis import strategies as st

Metadata = tuple[tuple[str, str], ...]
SeedFn = Callable[[str, Mapping[str, str]], Sequence[Message] | None]


@dataclass
class Target:
    service: str                              # full name, e.g. "proctor.exam.v1.ExamSession"
    channel: grpc.aio.Channel
    public: frozenset[str]                    # method names that need no token
    victim: Mapping[str, str]                 # field name -> the victim's id (seeds aimed at the victim)
    fuzzee: Mapping[str, str]                 # the same for the candidate the random phase plays with
    pool: Pool                                # ids the random generator prefers (victim, others, unknown)
    bad: Mapping[str, Metadata]               # credentials that prove nothing
    wrong: Mapping[str, Metadata]             # valid credentials of the wrong party for the victim
    anyone: Mapping[str, Metadata]            # every credential for the random phase
    snapshot: Callable[[], Awaitable[Any]]    # the victim's state (compared before/after)
    known_good: Callable[[], Awaitable[None]]  # a request that must still work afterwards
    seeds: SeedFn = lambda method, ids: None  # valid request(s) of a method for these ids
    owners: Sequence[str] = ()                # names in ``anyone`` drawn half of the time (the fuzzee's own)
    baseline: Any = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def descriptor(self) -> d.ServiceDescriptor:
        return service_descriptor(self.service)

    def method(self, name: str) -> d.MethodDescriptor:
        return self.descriptor.methods_by_name[name]

    def seed(self, name: str, ids: Mapping[str, str]) -> list[Message]:
        m = self.method(name)
        given_seed = self.seeds(name, ids)
        return list(given_seed) if given_seed else [seed_request(m.input_type, ids)]

    async def send(self, name: str, kind: str, raws: Sequence[bytes], md: Metadata,
                   expect: Callable[[Outcome], str | None] | None = None) -> Outcome:
        """One input: send, count, check the property (and ``expect`` when given)."""
        m = self.method(name)
        outcome = await call_raw(self.channel, f"/{self.service}/{name}", m.client_streaming, m.server_streaming,
                                 list(raws), md)
        TALLY.record(self.service, name, kind, outcome)
        problem = judge(outcome) or (expect(outcome) if expect else None)
        if problem is None and outcome.code == grpc.StatusCode.OK:
            problem = _unparseable_reply(m, outcome)
        if problem:
            sample = b"|".join(raws)[:200].hex()
            TALLY.violation(self.service, name, kind, problem, sample)
            raise AssertionError(f"{self.service}/{name} [{kind}]: {problem}; input (hex) {sample}")
        return outcome


def _unparseable_reply(m: d.MethodDescriptor, outcome: Outcome) -> str | None:
    from fuzz_protos import message_class

    cls = message_class(m.output_type)
    for raw in outcome.responses:
        try:
            cls.FromString(raw)
        except Exception as exc:  # noqa: BLE001 - reported as the problem
            return f"OK with an unparseable reply: {exc}"
    return None


def service_descriptor(full_name: str) -> d.ServiceDescriptor:
    for svc in grpc_services():
        if svc.full_name == full_name:
            return svc
    raise KeyError(full_name)


def unauthenticated(outcome: Outcome) -> str | None:
    if outcome.code != grpc.StatusCode.UNAUTHENTICATED:
        return f"a bad credential got {outcome.label}, not UNAUTHENTICATED"
    return None


async def serving(channel: grpc.aio.Channel, service: str) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", service):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, (name, reply)


def _serialised(msgs: Sequence[Message]) -> list[bytes]:
    return [m.SerializeToString() for m in msgs]


def campaign_tests(service: str) -> dict[str, Any]:
    """The campaign's tests for every method of ``service``; the module defines a ``target`` fixture."""
    methods = [m.name for m in service_descriptor(service).methods]
    each = pytest.mark.parametrize("method", methods)

    @each
    async def test_bad_tokens(target: Target, method: str) -> None:
        raws = _serialised(target.seed(method, target.victim))
        public = method in target.public
        for name, md in target.bad.items():
            await target.send(method, f"token:{name}", raws, md, None if public else unauthenticated)

    @each
    async def test_wrong_parties(target: Target, method: str) -> None:
        raws = _serialised(target.seed(method, target.victim))
        for name, md in target.wrong.items():
            await target.send(method, f"party:{name}", raws, md)

    @each
    @campaign()
    @given(data=st.data())
    async def test_mutated_requests(target: Target, method: str, data: st.DataObject) -> None:
        seeds = target.seed(method, target.victim)
        i = data.draw(st.integers(0, len(seeds) - 1), label="message")
        how, raw = data.draw(mutation_strategy(seeds[i], target.pool), label="mutation")
        # valid tokens of the wrong party half of the time: they pass authentication and reach the rules
        wrong = st.sampled_from(sorted(target.wrong.items()))
        creds = data.draw(st.one_of(wrong, st.sampled_from(sorted({**target.bad, **target.wrong}.items()))),
                          label="credential")
        raws = _serialised(seeds)
        raws[i] = raw
        await target.send(method, f"mutated:{how}", raws, creds[1])

    @each
    async def test_giant_inputs(target: Target, method: str) -> None:
        seeds = target.seed(method, target.victim)
        md = next(iter(target.wrong.values()))
        for label, raw, over_limit in giant_inputs(seeds[-1]):
            # (in a client stream an earlier message may be refused first: any precise outcome)
            def limit(outcome: Outcome, over: bool = over_limit and len(seeds) == 1) -> str | None:
                if over and outcome.code != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    return f"a 9 MB request got {outcome.label}"
                return None

            await target.send(method, f"giant:{label}", [*_serialised(seeds[:-1]), raw], md, limit)

    async def test_victim_unchanged(target: Target) -> None:
        now = await target.snapshot()
        changed = [f"part {i}: {before!r:.300} -> {after!r:.300}"
                   for i, (before, after) in enumerate(zip(target.baseline, now, strict=True)) if before != after]
        assert not changed, f"the garbage changed the victim: {changed}"

    @each
    @campaign()
    @given(data=st.data())
    async def test_random_requests(target: Target, method: str, data: st.DataObject) -> None:
        m = target.method(method)
        everyone = st.sampled_from(sorted(target.anyone))
        name = data.draw(st.one_of(st.sampled_from(list(target.owners)), everyone) if target.owners else everyone,
                         label="credential")
        cred = (name, target.anyone[name])
        if data.draw(st.booleans(), label="mutate the fuzzee's seed"):
            seeds = target.seed(method, target.fuzzee)
            i = data.draw(st.integers(0, len(seeds) - 1), label="message")
            how, raw = data.draw(mutation_strategy(seeds[i], target.pool), label="mutation")
            raws = _serialised(seeds)
            raws[i] = raw
            kind = f"mutated:{how}"
        else:
            count = data.draw(st.integers(1, 4), label="messages") if m.client_streaming else 1
            strategy = message_strategy(m.input_type, target.pool)
            msgs = [data.draw(strategy, label="request") for _ in range(count)]
            if m.client_streaming and data.draw(st.booleans(), label="valid first message"):
                msgs[0] = target.seed(method, target.fuzzee)[0]
            raws = _serialised(msgs)
            kind = "random"
        await target.send(method, kind, raws, cred[1])

    async def test_still_serving(target: Target) -> None:
        await serving(target.channel, target.service)
        await target.known_good()

    return {f.__name__: f for f in (test_bad_tokens, test_wrong_parties, test_mutated_requests, test_giant_inputs,
                                    test_victim_unchanged, test_random_requests, test_still_serving)}
