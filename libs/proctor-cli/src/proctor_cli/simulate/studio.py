"""What the candidates' devices record: each candidate's camera (their identity's footage with the injected
anomalies in place, whose capture times become the ground truth), the screen, the phone; and, for the
analysed recordings (camera, phone evidence), the live stills of each segment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from proctor.common.v1 import common_pb2 as c
from proctor_cli import demo_media
from proctor_cli.simulate import plan
from proctor_cli.simulate.media import Footage, Sources


@dataclass(frozen=True)
class Feed:
    """One recording's content, by segment index."""

    segment: Callable[[int, datetime], bytes]  # index, capture start -> the segment's bytes (records the truth)
    stills: Callable[[int], list[bytes]] | None = None  # index -> the segment's stills; None: not analysed


class StudioMedia:
    """The segments the candidates' devices record (see ``media``)."""

    def __init__(self, src: Sources, cfg: plan.SimConfig, demo: dict[int, tuple[c.MediaFormat, list[bytes]]],
                 cache: Path) -> None:
        self.src, self.segment_s = src, cfg.segment_s
        self.h264, _ = demo[c.STREAM_KIND_DESKTOP_SCREEN]
        self.screen = demo_media.screen_segments(cache, cfg.screen_segment_s)
        self.vp9, self.scan = demo[c.STREAM_KIND_PHONE_ROOM_SCAN]
        # the segment length of each recording (what media-ingest announces for the kind)
        self.seconds = {c.STREAM_KIND_DESKTOP_CAMERA: cfg.segment_s, c.STREAM_KIND_DESKTOP_SCREEN: cfg.screen_segment_s,
                        c.STREAM_KIND_PHONE_EVIDENCE: cfg.phone_segment_s,
                        c.STREAM_KIND_PHONE_ROOM_SCAN: demo_media.SEGMENT_S}
        self.phone_s = cfg.phone_segment_s

    def phone(self, identity: Any) -> Footage:
        return self.src.phone(identity, self.phone_s)

    def prepare(self, plans: list[plan.CandidatePlan]) -> None:
        for p in plans:
            self.src.normal(p.identity, self.segment_s)
            self.phone(p.identity)
            for inj in p.injections:
                if not inj.telemetry:
                    self.src.anomaly(p.identity, inj.kind, inj.variant, self.segment_s)

    def feed(self, p: plan.CandidatePlan, kind: int) -> Feed:
        """What candidate ``p``'s device records for a stream of ``kind``."""
        if kind == c.STREAM_KIND_DESKTOP_CAMERA:
            return self.camera(p)
        if kind == c.STREAM_KIND_PHONE_EVIDENCE:
            phone = self.phone(p.identity)
            n = len(phone.segments)
            return Feed(lambda i, _start: phone.segments[i % n], lambda i: phone.stills[i % n])
        recorded: dict[int, list[bytes]] = {c.STREAM_KIND_DESKTOP_SCREEN: self.screen,
                                            c.STREAM_KIND_PHONE_ROOM_SCAN: self.scan}
        clip = recorded[kind]
        return Feed(lambda i, _start: clip[i % len(clip)])

    def camera(self, p: plan.CandidatePlan) -> Feed:
        seg = self.segment_s
        return camera_feed(self.src.normal(p.identity, seg),
                           [(inj, self.src.anomaly(p.identity, inj.kind, inj.variant, seg))
                            for inj in p.injections if not inj.telemetry], seg)


def camera_feed(normal: Footage, anomalies: list[tuple[plan.Injection, Footage]], segment_s: int) -> Feed:
    """A candidate's camera: their footage, with each injected anomaly's segments from the segment its
    ``at_s`` falls in (a segment boundary). Recording an anomaly segment sets the injection's ground truth:
    the capture start of its first segment, and the capture time ``seconds`` (the anomaly's own length) into
    it as the end, reached in the segment that holds it (honest footage fills the rest of that segment). The
    stills of a segment come from the same footage as the segment (an anomaly's show the anomaly)."""
    windows = [(inj, int(inj.at_s // segment_s), footage) for inj, footage in anomalies]

    def at(i: int) -> tuple[plan.Injection | None, Footage, int]:
        for inj, k0, footage in windows:
            if k0 <= i < k0 + len(footage.segments):
                return inj, footage, i - k0
        return None, normal, i % len(normal.segments)

    def segment(i: int, start: datetime) -> bytes:
        inj, footage, j = at(i)
        if inj is not None:
            if j == 0:
                inj.start = start
            shown = inj.seconds - j * segment_s  # what is left of the anomaly when this segment starts
            if shown > 0:
                inj.end = start + timedelta(seconds=min(segment_s, shown))
        return footage.segments[j]

    def stills(i: int) -> list[bytes]:
        _inj, footage, j = at(i)
        return footage.stills[j]
    return Feed(segment, stills)
