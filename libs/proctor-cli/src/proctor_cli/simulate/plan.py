"""The scenario of a simulated sitting, drawn from a seed: the compressed timeline, who sits where, who
cheats and how (the injected anomalies are the ground truth), who loses the network.

Time: the sitting's rules (login window, last entry, end, upload deadline, abandon grace) are the real
90-minute sitting's divided by ``speed``. Recordings stay real time: a 30-s segment is recorded in 30 s
(and the live stills are sent as they are captured), because the detectors' rules are in media seconds (a
face must be missing 5 s, not 5/speed s). A candidate-hour is therefore an hour of recording, which is
what the cost is measured against.

A camera anomaly replaces whole camera segments: it starts on a segment boundary (``at_s`` a multiple of
the segment length), lasts its own length (``media.DURATION_S``; honest footage fills the rest of its last
segment, ``media.anomaly_seconds``), and its segments end at least a segment before the exam does, so that
the recording really holds it. Telemetry anomalies, the honest focus blips and the network drops are
on a 1-s grid.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from proctor.common.v1 import common_pb2 as c
from proctor_cli.simulate.media import DURATION_S, Identity, Sources, anomaly_seconds

SECOND_MONITOR = c.INCIDENT_KIND_SECOND_MONITOR
FOCUS_LOST = c.INCIDENT_KIND_FOCUS_LOST
TELEMETRY_S: dict[int, int] = {SECOND_MONITOR: 12, FOCUS_LOST: 8}
WARM_UP_S = 14  # no injection before: the detectors calibrate the neutral pose on the first frames
APART_S = 8  # between two injections (or an injection and a drop) of one candidate
TAIL_S = 10  # an injection or a drop ends at least this long before the exam (a camera one: a segment more)
ROOM_SIZE = 25
LONG_SEGMENTS_FROM_S = 150  # compressed exam seconds from which the default segments are 30 s


def kind_name(kind: int) -> str:
    return c.IncidentKind.Name(kind).removeprefix("INCIDENT_KIND_")


@dataclass(frozen=True)
class SimConfig:
    candidates: int = 6
    speed: float = 60.0
    cheaters: int | None = None  # default: a fifth of the candidates, at least one
    seed: int = 7
    minutes: float = 90.0  # the exam's real duration (compressed by speed)
    # the segment lengths of the camera, the phone evidence and the screen (the server announces them:
    # media-ingest's SEGMENT_S_* settings are set from here); 0 = media-ingest's default (30 s) when the
    # compressed exam lasts at least LONG_SEGMENTS_FROM_S, else 10 s (a short exam would have no room for
    # a camera anomaly a segment before its end)
    segment_s: int = 0
    phone_segment_s: int = 0
    screen_segment_s: int = 0
    questions: int = 8
    drop_share: float = 0.1  # candidates who lose the network for a while during the exam

    def __post_init__(self) -> None:
        auto = 30 if self.minutes * 60 / self.speed >= LONG_SEGMENTS_FROM_S else 10
        for name in ("segment_s", "phone_segment_s", "screen_segment_s"):
            if not getattr(self, name):
                object.__setattr__(self, name, auto)

    @property
    def cheater_count(self) -> int:
        if self.cheaters is not None:
            return min(self.cheaters, self.candidates)
        return max(1, round(self.candidates / 5))

    def scaled(self, minutes: float) -> timedelta:
        return timedelta(seconds=minutes * 60 / self.speed)


@dataclass(frozen=True)
class Timeline:
    login_opens: datetime
    waiting_opens: datetime
    start: datetime
    last_entry: datetime
    end: datetime
    upload_deadline: datetime
    abandon_grace: timedelta

    @classmethod
    def compressed(cls, cfg: SimConfig, start: datetime) -> Timeline:
        end = start + cfg.scaled(cfg.minutes)
        return cls(start - cfg.scaled(30), start - cfg.scaled(10), start, start + cfg.scaled(30), end,
                   end + cfg.scaled(60), max(timedelta(seconds=20), cfg.scaled(10)))

    @property
    def exam_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def spec(self, sitting_id: str, questions: int) -> dict[str, object]:
        def rel(t: datetime) -> str:
            return f"{(t - self.start).total_seconds():+.0f}s"

        return {"sitting_id": sitting_id, "name": "模拟考试 simulated sitting", "kind": "formal",
                "timeline": {"start": self.start.isoformat(), "duration": f"{self.exam_s:.0f}s",
                             "login_opens": rel(self.login_opens), "waiting_room_opens": rel(self.waiting_opens),
                             "last_entry": rel(self.last_entry),
                             "upload_deadline": f"+{(self.upload_deadline - self.end).total_seconds():.0f}s"},
                "questions": [{"id": f"q{i}", "type": "single_choice", "options": list("ABCD"),
                               "content": f"bank://sim/q{i}"} for i in range(questions)],
                "policy": {"require_room_scan": True, "abandon_grace": f"{self.abandon_grace.total_seconds():.0f}s",
                           "heartbeat_interval": f"{self.heartbeat_s:.0f}s"}}

    @property
    def heartbeat_s(self) -> float:
        """exam-session's default interval (10 s), or less when the compressed abandon grace would not hold
        two of them."""
        return max(1.0, min(10.0, self.abandon_grace.total_seconds() // 2))


@dataclass
class Injection:
    """One injected anomaly: what, when (seconds after the candidate's recording started) and how long."""

    kind: int
    at_s: float
    seconds: float
    variant: int = 0
    # filled while playing: the capture (wall-clock) times the anomaly was really shown/reported
    start: datetime | None = None
    end: datetime | None = None

    @property
    def telemetry(self) -> bool:
        return self.kind in TELEMETRY_S


@dataclass
class Drop:
    at_s: float
    seconds: float
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class CandidatePlan:
    cid: str
    name: str
    room: str
    identity: Identity
    cheater: bool
    login_at_s: float  # after the login window opens
    injections: list[Injection] = field(default_factory=list)
    blips: list[float] = field(default_factory=list)  # honest 1-s focus losses (below the 3-s rule)
    drop: Drop | None = None


def _place(rng: random.Random, exam_s: float, taken: list[tuple[float, float]], seconds: float,
           grid: int = 1, tail_s: float = TAIL_S) -> float | None:
    """A random start on the ``grid`` (seconds after the recording started) for something lasting ``seconds``:
    after the warm-up, ending ``tail_s`` before the exam does, ``APART_S`` from everything in ``taken``."""
    lo, hi = math.ceil(WARM_UP_S / grid), math.floor((exam_s - seconds - tail_s) / grid)
    if hi < lo:
        return None
    for _ in range(50):
        at = float(grid * rng.randint(lo, hi))
        if all(at + seconds + APART_S <= a or at >= b + APART_S for a, b in taken):
            taken.append((at, at + seconds))
            return at
    return None


def build(cfg: SimConfig, sources: Sources, timeline: Timeline) -> list[CandidatePlan]:
    rng = random.Random(cfg.seed)
    n = cfg.candidates
    cheaters = set(rng.sample(range(n), cfg.cheater_count))
    honest_first = [i for i in rng.sample(range(n), n) if i not in cheaters] + sorted(cheaters)
    drops = set(honest_first[:max(1 if n >= 3 else 0, round(cfg.drop_share * n))])
    exam_s = timeline.exam_s
    login_window = (timeline.last_entry - timeline.login_opens).total_seconds()
    plans, rotation = [], 0
    for i in range(n):
        identity = sources.identities[i % len(sources.identities)]
        plan = CandidatePlan(f"c{i:03d}", f"考生 {i:03d}", f"room-{i // ROOM_SIZE + 1}", identity, i in cheaters,
                             login_at_s=rng.uniform(0.05, 0.45) * login_window)
        taken: list[tuple[float, float]] = []
        if i in cheaters:
            kinds = sources.kinds(identity)
            camera = kinds[rotation % len(kinds)]
            telemetry = (SECOND_MONITOR, FOCUS_LOST)[rotation % 2]
            rotation += 1
            seg = cfg.segment_s  # a camera anomaly is whole camera segments, ending a segment before the exam
            for kind, length, footage, grid, tail in (
                    (camera, DURATION_S[camera], anomaly_seconds(camera, seg), seg, TAIL_S + seg),
                    (telemetry, TELEMETRY_S[telemetry], TELEMETRY_S[telemetry], 1, TAIL_S)):
                at = _place(rng, exam_s, taken, float(footage), grid, tail)
                if at is not None:
                    plan.injections.append(Injection(kind, at, float(length), variant=rotation))
        elif rng.random() < 0.5:
            at = _place(rng, exam_s, taken, 1.0)
            if at is not None:
                plan.blips.append(at)
        if i in drops:  # after the injections: a short exam keeps its anomalies rather than its drops
            seconds = min(16.0, 0.6 * timeline.abandon_grace.total_seconds())
            at = _place(rng, exam_s, taken, seconds)
            plan.drop = Drop(at, seconds) if at is not None else None
        plans.append(plan)
    return plans
