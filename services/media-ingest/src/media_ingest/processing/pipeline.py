"""One segment, local files only: probe, judge, normalise. Shared by the worker and the benchmark.

Whatever the media libraries raise on a hostile or broken file ends here as a flagged, unusable
segment (``MEDIA_FLAG_CORRUPT``, ``probe.ok`` false), never as an exception: a corrupt upload is
recorded and reported, it never crashes the worker or loops through retries into the DLQ.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from media_ingest.processing import fmp4, probe, rules
from media_ingest.processing.config import MediaSettings
from media_ingest.processing.normalise import MediaError, Normalised, normalise
from proctor.events.v1 import media_pb2 as media

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    verdict: rules.Verdict
    info: rules.SegmentInfo
    plan: rules.Plan
    normalised: Normalised | None  # None when nothing usable was produced

    @property
    def action(self) -> int:
        return self.plan.action if self.normalised is not None else media.PROCESSING_ACTION_NONE


def process_file(path: Path, expect: rules.Expectation, offset_s: float, out: Path, thumbnail: Path | None,
                 settings: MediaSettings) -> Outcome:
    """Validate ``path`` and, when usable, write the normalised segment at ``out`` (timestamps from
    ``offset_s``) and its thumbnail (when ``thumbnail`` is given)."""
    info = rules.SegmentInfo(path.stat().st_size)
    plan = rules.Plan(rules.ABSENT, rules.ABSENT)
    try:
        try:  # the common upload without PyAV packets; it declines (None) whatever is not that simple
            fast = fmp4.fast_process(path, expect, offset_s, out, thumbnail, settings)
        except Exception:  # a bug there costs speed, never the segment: PyAV below is the judge
            log.exception("fMP4 fast path failed; the PyAV path handles the segment", extra={"path": str(path)})
            fast = None
        if fast is not None:
            return fast
        with probe.demux(path) as seg:
            info, plan = seg.info, rules.plan(seg.info)
            verdict = rules.judge(info, expect, settings)
            if not verdict.ok:
                return Outcome(verdict, info, plan, None)
            try:
                return Outcome(verdict, info, plan, normalise(seg, plan, offset_s, out, thumbnail, settings))
            except MediaError as exc:
                verdict.fail(media.MEDIA_FLAG_CORRUPT, str(exc))
                return Outcome(verdict, info, plan, None)
    except Exception as exc:  # a hostile file must not take the worker down (logged with its traceback)
        log.exception("media processing failed; segment flagged corrupt", extra={"path": str(path)})
        verdict = rules.Verdict(False)
        verdict.flag(media.MEDIA_FLAG_CORRUPT, f"processing failed: {exc!r}"[:300])
        return Outcome(verdict, info, plan, None)
