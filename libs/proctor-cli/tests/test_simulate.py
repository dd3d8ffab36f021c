"""``proctor simulate``: the report's matching rule and the liveness repertoire on their own, then a short
sitting (4 candidates, 2 of them cheating, speed 90: a 60-s exam) against the real services in their own
processes, with the report's invariants checked against the injected truth. Uses the shared clips when
``../shared/testdata/faces`` exists, the images shipped in scikit-image and insightface otherwise."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from proctor.common.v1 import common_pb2 as c
from proctor_cli.simulate import SimConfig, liveness, media, report, simulate
from proctor_cli.simulate.media import Identity
from proctor_cli.simulate.plan import CandidatePlan, Drop, Injection
from proctor_runtime import topics

T0 = datetime(2026, 6, 7, 9, 0, tzinfo=UTC)
REQUIRED = ["incident_precision", "incident_recall", "incident_recall_by_kind", "false_alarms_per_honest_hour",
            "e2e_p50_ms", "e2e_p99_ms", "cpu_seconds_per_candidate_hour", "cpu_seconds_per_candidate_hour_by_process",
            "bytes_stored_per_candidate_hour", "media_bytes_lost", "incidents_lost", "incidents_duplicated",
            "answers_lost", "logins", "truth", "accuracy", "latency", "text", "console_url"]


def _at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def _plan(cid: str, cheater: bool, injections: list[Injection], drop: Drop | None = None) -> CandidatePlan:
    return CandidatePlan(cid, cid, "room-1", Identity("x", Path("x.mp4")), cheater, 0.0, injections, drop=drop)


def _detected(iid: str, cid: str, kind: int, start: float, end: float) -> report.Detected:
    return report.Detected(iid, cid, kind, _at(start), _at(end), _at(start + 2), c.INCIDENT_SOURCE_DETECTOR)


def test_matching_rule_same_candidate_same_kind_overlapping_within_tolerance():
    faces = Injection(c.INCIDENT_KIND_MULTIPLE_FACES, 20, 10, start=_at(20), end=_at(30))
    away = Injection(c.INCIDENT_KIND_GAZE_AWAY, 40, 10, start=_at(40), end=_at(50))
    unplayed = Injection(c.INCIDENT_KIND_NO_FACE, 60, 10)  # never shown (the exam ended first): not in the truth
    plans = [_plan("a", True, [faces, away, unplayed]),
             _plan("b", False, [], drop=Drop(10, 12, start=_at(70), end=_at(82)))]
    found = {d.incident_id: d for d in [
        _detected("1", "a", c.INCIDENT_KIND_MULTIPLE_FACES, 22, 31),  # match
        _detected("2", "a", c.INCIDENT_KIND_MULTIPLE_FACES, 34, 36),  # starts 4 s after the end: within tolerance
        _detected("3", "a", c.INCIDENT_KIND_IDENTITY_MISMATCH, 22, 30),  # another kind: false
        _detected("4", "b", c.INCIDENT_KIND_GAZE_AWAY, 41, 45),  # another candidate: false, on an honest one
        _detected("5", "b", c.INCIDENT_KIND_NETWORK_OFFLINE, 75, 85),  # b really dropped: expected, not counted
        _detected("6", "a", c.INCIDENT_KIND_GAZE_AWAY, 56, 58),  # 6 s after the end: outside the tolerance
    ]}
    acc = report.accuracy(plans, found, honest_hours=0.5, grace=timedelta(seconds=20))
    assert (acc["injected"], acc["injected_detected"]) == (2, 1)
    assert acc["incident_recall"] == 0.5
    assert (acc["incidents_true"], acc["incidents_false"]) == (2, 3)
    assert acc["incident_precision"] == round(2 / 5, 3)
    assert acc["incidents_false_during_injected"] == 1 and acc["incident_precision_any_kind"] == round(3 / 5, 3)
    assert acc["incidents_expected_network"] == {"NETWORK_OFFLINE": 1}
    assert acc["false_alarms_on_honest"] == 1 and acc["false_alarms_per_honest_hour"] == 2.0
    assert acc["per_kind"]["MULTIPLE_FACES"]["recall"] == 1.0 and acc["per_kind"]["GAZE_AWAY"]["recall"] == 0.0
    delivered = report.delivery(found, Counter({"1": 1, "2": 2, "3": 1, "4": 1, "5": 1}))
    assert (delivered["incidents_lost"], delivered["incidents_duplicated"]) == (1, 1)
    assert delivered["incidents_lost_ids"] == ["6"]


def test_repertoire_finds_turns_blinks_and_mirrors():
    n = 120
    yaw, pitch, ear = np.zeros(n), np.zeros(n), np.full(n, 0.3)
    yaw[30:50] = np.concatenate([np.linspace(2, 28, 10), np.linspace(28, 2, 10)])  # a turn to the left and back
    ear[80:83] = 0.1  # a blink
    rep = liveness.repertoire(Path("x.mp4"), liveness.Track(yaw, pitch, ear))
    assert rep.neutral is not None
    assert not rep.moves["TURN_LEFT"].mirrored and rep.moves["TURN_RIGHT"].mirrored
    assert rep.moves["TURN_LEFT"].start <= 36 < rep.moves["TURN_LEFT"].end
    assert rep.moves["BLINK"].start <= 80 < rep.moves["BLINK"].end
    assert rep.can(["TURN_LEFT", "BLINK", "TURN_RIGHT"]) and rep.possible()
    assert not rep.can(["NOD", "BLINK", "TURN_LEFT"]) and "LOOK_UP" not in rep.moves


def test_cpu_projection_counts_one_off_work_once_per_candidate():
    # 10 candidates, 0.5 candidate-hours recorded in all, 0.25 of them in the steady window; process "a" used
    # 50 CPU-s in the window (200 per candidate-hour running) and 150 in all: 100 for the recording, 50
    # once (5 per candidate). A real 1.5-h exam: 200 + 5 / 1.5 per candidate-hour.
    r = report.cpu_projection({"a": 150.0, "b": 10.0}, {"a": 50.0, "b": 5.0}, 0.25, 0.5, 10, 1.5)
    assert r["projected"] and r["steady_by_process"] == {"a": 200.0, "b": 20.0}
    assert r["one_off_by_process"] == {"a": 5.0, "b": 0.0}
    assert r["by_process"] == {"a": round(200 + 5 / 1.5, 1), "b": 20.0}
    assert r["cpu_seconds_per_candidate_hour"] == round(200 + 5 / 1.5 + 20, 1)
    assert r["compressed"] == 320.0 and r["compressed_by_process"] == {"a": 300.0, "b": 20.0}
    # without a window (a sitting cut short) the plain quotient stands
    cut = report.cpu_projection({"a": 150.0}, {}, 0.0, 0.5, 10, 1.5)
    assert not cut["projected"] and cut["cpu_seconds_per_candidate_hour"] == 300.0


@pytest.mark.infra
@pytest.mark.timeout(420)
async def test_short_sitting_report_invariants(kafka_broker, postgres, monkeypatch):
    monkeypatch.setenv("PROCTOR_SERVICE_PORT_BASE", str(random.randrange(23000, 26000, 200)))
    topics.ensure_topics(kafka_broker.settings.kafka_bootstrap, topics.new_topics())
    # speed 60: a 90-s exam, room for each cheater's camera and telemetry anomaly
    r = await simulate(SimConfig(candidates=4, cheaters=2, speed=60, seed=11, questions=6))
    assert all(key in r for key in REQUIRED), [k for k in REQUIRED if k not in r]
    assert not r["errors"] and not r["not_enrolled"] and not r["settle_timeout"]
    # every candidate sat the exam, answered, recorded, and ended UPLOADED
    assert r["states"] == {"UPLOADED": 4}
    assert sum(r["logins"].values()) == 4 and set(r["logins"]) <= {"liveness", "override"}
    assert r["candidate_hours"] > 0 and r["answers_acknowledged"] == 4 * 6 and r["network_drops"] >= 1
    # nothing lost or duplicated
    assert r["media_bytes_acknowledged"] > 0 and r["media_bytes_lost"] == 0
    assert r["answers_lost"] == 0 and r["incidents_lost"] == 0 and r["incidents_duplicated"] == 0
    # accuracy computed against the truth the simulator injected
    acc = r["accuracy"]
    played = [i for t in r["truth"] for i in t["injected"] if i["start"] and i["end"]]
    assert acc["injected"] == len(played) >= 2
    assert sum(k["injected"] for k in acc["per_kind"].values()) == len(played)
    telemetry = [i for i in played if i["kind"] in ("SECOND_MONITOR", "FOCUS_LOST")]
    if media.shared_faces() is not None or telemetry:
        # telemetry anomalies are always found; camera ones need the real clips of ../shared (on a fresh
        # clone the packaged stand-ins are not reliable enough to assert detection on)
        assert acc["injected_detected"] >= 1
    assert r["incident_recall"] == round(acc["injected_detected"] / acc["injected"], 3)
    raised = acc["incidents_true"] + acc["incidents_false"]
    assert r["incident_precision"] == (round(acc["incidents_true"] / raised, 3) if raised else None)
    cheaters = {t["candidate_id"] for t in r["truth"]}
    assert all(f["candidate_id"] in cheaters or not f["cheater"] for f in acc["false_incidents"])
    if acc["injected_detected"]:
        assert r["proctors"]["incidents_delivered"] and r["e2e_p50_ms"] > 0 and r["e2e_p99_ms"] >= r["e2e_p50_ms"]
    assert r["cpu_seconds_per_candidate_hour"] > 0 and r["bytes_stored_per_candidate_hour"] > 0
    # the steady window was measured: the figure is the projection to a real exam
    assert r["cpu"]["projected"] and r["cpu"]["steady_candidate_hours"] > 0
    assert "incident_recall" in r["text"] and r["console_url"].startswith("http://127.0.0.1:")
