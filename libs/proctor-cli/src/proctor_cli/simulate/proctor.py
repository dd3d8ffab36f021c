"""The proctors of the simulated sitting: ``demo_proctor.ProctorDesk`` (one notify stream per room, help
answered, MULTIPLE_FACES and SECOND_MONITOR confirmed), also recording when each incident first reached
a console and how many times it arrived."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from proctor.notify.v1 import notify_pb2 as pb
from proctor_cli.demo_proctor import ProctorDesk


@dataclass
class SimDesk(ProctorDesk):
    arrivals: dict[str, float] = field(default_factory=dict)  # incident id -> wall time of the first delivery
    deliveries: Counter[str] = field(default_factory=Counter)  # incident id -> OPENED items delivered

    async def _incident(self, room: str, md: Any, view: pb.IncidentView) -> None:
        inc = view.incident
        self.deliveries[inc.incident_id] += 1
        self.arrivals.setdefault(inc.incident_id, time.time())
        await super()._incident(room, md, view)
