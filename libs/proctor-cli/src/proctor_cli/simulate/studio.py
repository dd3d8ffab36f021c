"""The segments the candidates' devices record: each candidate's camera (their identity's footage with the
injected anomalies in place, whose capture times become the ground truth), the screen, the phone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from proctor.common.v1 import common_pb2 as c
from proctor_cli import demo_media
from proctor_cli.simulate import plan
from proctor_cli.simulate.media import Sources


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

    def phone(self, identity: Any) -> list[bytes]:
        return self.src.phone(identity, self.phone_s)

    def prepare(self, plans: list[plan.CandidatePlan]) -> None:
        for p in plans:
            self.src.normal(p.identity, self.segment_s)
            self.phone(p.identity)
            for inj in p.injections:
                if not inj.telemetry:
                    self.src.anomaly(p.identity, inj.kind, inj.variant, self.segment_s)

    def camera(self, p: plan.CandidatePlan) -> Callable[[int, datetime], bytes]:
        seg = self.segment_s
        normal = self.src.normal(p.identity, seg)
        windows = [(inj, int(inj.at_s // seg), self.src.anomaly(p.identity, inj.kind, inj.variant, seg))
                   for inj in p.injections if not inj.telemetry]

        def segment(i: int, start: datetime) -> bytes:
            for inj, k0, segs in windows:
                if k0 <= i < k0 + len(segs):
                    if i == k0:
                        inj.start = start
                    inj.end = start + timedelta(seconds=seg)
                    return segs[i - k0]
            return normal[i % len(normal)]
        return segment
