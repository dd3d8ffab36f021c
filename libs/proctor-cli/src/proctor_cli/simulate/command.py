"""``proctor simulate --candidates N --speed X [--cheaters K] [--seed S] [--minutes M] [--faults all|F,...]
[--json]``. With ``--faults`` the exit code is 1 when a check of the fault campaign failed."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("simulate", help="a whole sitting with simulated candidates against the real services")
    p.add_argument("--candidates", type=int, default=6)
    p.add_argument("--speed", type=float, default=60.0, help="the sitting's rules run this many times faster "
                   "than real time (recordings stay real time)")
    p.add_argument("--cheaters", type=int, default=None, help="default: a fifth of the candidates, at least one")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--minutes", type=float, default=90.0, help="the exam's real duration before compression")
    p.add_argument("--segment-seconds", type=int, default=0, choices=[0, 1, 2, 4, 10, 30],
                   help="the desktop camera's segments (media-ingest is told to announce these lengths); 0: "
                        "media-ingest's default of 30 s, or 10 s when the compressed exam is shorter than 150 s")
    p.add_argument("--phone-segment-seconds", type=int, default=0, choices=[0, 2, 4, 6, 10, 30])
    p.add_argument("--screen-segment-seconds", type=int, default=0, choices=[0, 2, 4, 6, 10, 30])
    p.add_argument("--verbose", action="store_true", help="narrate the sitting on stderr")
    p.add_argument("--keep-data", action="store_true", help="keep the throwaway databases and recordings")
    p.add_argument("--faults", default="", metavar="all|F,...",
                   help="fault campaign: 'all' or a comma list of cut-upload, kill:<service>, kafka, postgres")
    p.add_argument("--fault-down-seconds", type=float, default=2.0,
                   help="how long each crashed process (or the cut network) stays down")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=simulate_command)


def simulate_command(args: argparse.Namespace) -> dict[str, Any]:
    from proctor_cli.simulate import SimConfig, faults, simulate

    if args.candidates < 1 or args.speed <= 0 or args.minutes <= 0:
        raise SystemExit("proctor simulate: --candidates >= 1, --speed > 0 and --minutes > 0")
    campaign = None
    if args.faults:
        try:
            campaign = faults.FaultCampaign(faults.parse(args.faults), down_s=args.fault_down_seconds)
        except ValueError as exc:
            raise SystemExit(f"proctor simulate: --faults: {exc}") from exc
    cfg = SimConfig(candidates=args.candidates, speed=args.speed, cheaters=args.cheaters, seed=args.seed,
                    minutes=args.minutes, segment_s=args.segment_seconds, phone_segment_s=args.phone_segment_seconds,
                    screen_segment_s=args.screen_segment_seconds)
    result = asyncio.run(simulate(cfg, verbose=args.verbose, keep_data=args.keep_data,
                                  hooks=campaign.hooks() if campaign else None))
    if campaign is not None and not result["faults"]["ok"]:
        result["exit_code"] = 1
    return result
