"""Bad input against every Notify RPC (see fuzz_campaign for the phases and the property)."""

import asyncio
import time
import uuid

import pytest
from fuzz_campaign import Target, campaign_tests
from fuzz_check import close_fuzz_channel, fuzz_channel
from fuzz_protos import Pool
from fuzz_tokens import bad_tokens
from notify_harness import start_notify, stop_notify

from notify.grpc_api import SERVICE
from proctor.common.v1 import common_pb2 as c
from proctor.notify.v1 import notify_pb2 as pb
from proctor_runtime.tokens import Claims, Role

pytestmark = pytest.mark.infra


async def _snapshot(h, incident_id):
    detail = await h.stub.GetIncident(pb.GetIncidentRequest(incident_id=incident_id), metadata=h.staff())
    thread = await h.stub.ListHelpThread(pb.ListHelpThreadRequest(sitting_id=h.sitting_id, candidate_id="c0"),
                                         metadata=h.staff())
    return detail.SerializeToString(deterministic=True), thread.SerializeToString(deterministic=True)


def _seeds(h):
    def seeds(method, ids):
        sid, cid, inc = ids["sitting_id"], ids["candidate_id"], ids["incident_id"]
        table = {
            "SubscribeIncidents": lambda: pb.SubscribeIncidentsRequest(sitting_id=sid, room_ids=[ids["room_id"]]),
            "AcknowledgeIncident": lambda: pb.AcknowledgeIncidentRequest(incident_id=inc, note="看到了"),
            "ResolveIncident": lambda: pb.ResolveIncidentRequest(incident_id=inc, verdict=c.VERDICT_CONFIRMED,
                                                                 note="confirmed"),
            "EscalateIncident": lambda: pb.EscalateIncidentRequest(incident_id=inc, target=1, reason="check"),
            "ReplyHelp": lambda: pb.ReplyHelpRequest(sitting_id=sid, candidate_id=cid, text="稍等 wait",
                                                     client_message_id="fuzz-reply"),
            "SendCandidateNotice": lambda: pb.SendCandidateNoticeRequest(
                sitting_id=sid, candidate_id=cid, kind=c.NOTICE_KIND_WARNING, severity=c.SEVERITY_MEDIUM,
                text=c.LocalizedText(en="keep your face in view", zh="请保持面部在画面内"),
                client_request_id="fuzz-notice"),
        }
        make = table.get(method)
        return [make()] if make else None

    return seeds


@pytest.fixture(scope="module")
async def target(postgres, kafka_bootstrap, tmp_path_factory):
    db = f"fuzz_notify_{uuid.uuid4().hex[:10]}"
    postgres.psql(f'CREATE DATABASE "{db}"')
    h = await start_notify(postgres.settings.pg_dsn_for(db), kafka_bootstrap, tmp_path_factory.mktemp("notify-media"))
    # the harness channel keeps gRPC's default limits; the fuzzer's own sends anything
    channel = fuzz_channel(f"127.0.0.1:{h.host.port}")
    for cid, room in (("c0", "r1"), ("c1", "r2"), ("c2", "r1")):
        await h.register(cid, room)
    incidents = {cid: h.incident(cid, incident_id=f"inc-{cid}-{h.sitting_id}") for cid in ("c0", "c1")}
    for inc in incidents.values():
        await h.publish(inc)
    await h.help_from("c0", "摄像头坏了 camera broken", room_id="r1")
    await h.help_from("c1", "help", room_id="r2")
    async with asyncio.timeout(30):
        while True:
            listed = await h.stub.ListIncidents(pb.ListIncidentsRequest(sitting_id=h.sitting_id), metadata=h.staff())
            threads = await h.stub.ListHelpThreads(pb.ListHelpThreadsRequest(sitting_id=h.sitting_id),
                                                   metadata=h.staff())
            if len(listed.incidents) == 2 and len(threads.threads) == 2:
                break
            await asyncio.sleep(0.1)
    sid = h.sitting_id
    proctor_claims = Claims(sub="p1", role=Role.PROCTOR, iat=0, exp=2**40, jti="p", kid=h.admin.kid,
                            sitting_id=sid, rooms=("r1",))
    wrong = {"proctor_other_room": h.proctor("r2", sub="p2"), "candidate_other": h.candidate("c1"),
             "phone_other": h.candidate("c1", Role.PHONE), "proctor_other_sitting": h.proctor("r1", sitting_id="s-x"),
             "victim_candidate_on_proctor_rpcs": h.candidate("c0")}
    anyone = {"none": (), "proctor_r2": h.proctor("r2", sub="p2"), "proctor_r1": h.proctor("r1"), "chief": h.chief(),
              "staff": h.staff(), "c0": h.candidate("c0"), "c1": h.candidate("c1"),
              "c1_phone": h.candidate("c1", Role.PHONE)}
    victim = {"sitting_id": sid, "candidate_id": "c0", "incident_id": incidents["c0"].incident_id, "room_id": "r1"}
    fuzzee = {"sitting_id": sid, "candidate_id": "c1", "incident_id": incidents["c1"].incident_id, "room_id": "r2"}
    pool = Pool({"sitting_id": [sid, "s-x"], "candidate_id": ["c0", "c1", "c2", "nobody"],
                 "incident_id": [i.incident_id for i in incidents.values()] + ["inc-none"],
                 "related_incident_id": [incidents["c1"].incident_id], "room_ids": ["r1", "r2", "r9"],
                 "thread_id": [f"{sid}:c0", f"{sid}:c1"], "resume_cursor": ["", "0", "abc", "v1:999999"],
                 "page_token": ["", "1", "-1", "zzz"], "client_message_id": ["fuzz-reply"],
                 "client_request_id": ["fuzz-notice"]})

    async def known_good():
        got = await h.stub.ListIncidents(pb.ListIncidentsRequest(sitting_id=sid), metadata=h.staff())
        assert {i.incident.incident_id for i in got.incidents} >= {incidents["c0"].incident_id}
        witness = h.incident("c2", incident_id=f"inc-witness-{sid}")
        await h.publish(witness)
        async with asyncio.timeout(30):
            while True:
                try:
                    detail = await h.stub.GetIncident(pb.GetIncidentRequest(incident_id=witness.incident_id),
                                                      metadata=h.proctor("r1"))
                    break
                except Exception:  # noqa: BLE001 - not consumed yet
                    await asyncio.sleep(0.1)
        assert detail.view.status == c.INCIDENT_STATUS_NEW

    t = Target(SERVICE, channel, frozenset(), victim, fuzzee, pool,
               bad_tokens(h.admin, proctor_claims, time.time()), wrong, anyone,
               snapshot=lambda: _snapshot(h, incidents["c0"].incident_id), known_good=known_good, seeds=_seeds(h),
               owners=("proctor_r2", "c1", "staff"))
    t.baseline = await t.snapshot()
    yield t
    await close_fuzz_channel(channel)
    await stop_notify(h)
    postgres.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


globals().update(campaign_tests(SERVICE))
