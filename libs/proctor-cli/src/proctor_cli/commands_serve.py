"""``proctor serve <service>`` and ``proctor bench ...``.

Services register themselves under the ``proctor.services`` entry-point group (their
pyproject), so the CLI never imports a service it does not run.
"""

from __future__ import annotations

import argparse
import asyncio
from importlib.metadata import entry_points
from typing import Any

from proctor_runtime.devinfra import InfraSettings


def services() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group="proctor.services")}


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run one service in the foreground (SIGTERM stops it)")
    serve.add_argument("service", help=f"one of: {', '.join(sorted(services())) or '(none yet)'}")
    serve.set_defaults(handler=serve_command)
    bench = sub.add_parser("bench", help="benchmarks; each prints one JSON object")
    bench.add_argument("target", choices=["kafka-clients", "exam-session", "exam-session-scale", "auth-face",
                                          "media-ingest", "anomaly", "notify"])
    bench.add_argument("--frames", type=int, default=200, help="auth-face: verifications to time")
    bench.add_argument("--messages", type=int, default=50_000, help="kafka-clients: messages")
    bench.add_argument("--candidates", type=int, default=None,
                       help="exam-session: simulated candidates (10,000); exam-session-scale: imported (1,000,000)")
    bench.add_argument("--concurrency", type=int, default=56, help="exam-session: candidates in flight")
    bench.add_argument("--questions", type=int, default=20, help="exam-session: questions per candidate")
    bench.add_argument("--expected-saves-per-s", type=float, default=1000.0,
                       help="exam-session: sizes the sitting's timeline so answering ends before the end")
    bench.add_argument("--replicas", type=int, default=2,
                       help="exam-session: service processes (2: one per core of the 2-core target machine)")
    bench.add_argument("--streams", type=int, default=24, help="media-ingest: concurrent uploads")
    bench.add_argument("--segments", type=int, default=12, help="media-ingest: 4 s segments per stream")
    bench.add_argument("--chunk-kib", type=int, default=512, help="media-ingest: chunk size")
    bench.add_argument("--live-streams", type=int, default=48, help="media-ingest: streams recording live")
    bench.add_argument("--live-segments", type=int, default=5, help="media-ingest: segments per live stream")
    bench.add_argument("--no-factors", action="store_true", help="media-ingest: skip the remux/transcode factors")
    bench.add_argument("--seconds", type=int, default=120, help="anomaly: media seconds per candidate")
    bench.add_argument("--live-candidates", type=int, default=6, help="anomaly: candidates for the latency phase")
    bench.add_argument("--subscribers", type=int, default=500, help="notify: proctor streams")
    bench.add_argument("--rooms", type=int, default=250, help="notify: rooms (subscribers are spread over them)")
    bench.add_argument("--rate", type=float, default=1000.0, help="notify: incidents produced per second")
    bench.add_argument("--duration", type=float, default=10.0, help="notify: seconds of incidents")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(handler=bench_command)


def serve_command(args: argparse.Namespace) -> dict[str, Any]:
    known = services()
    if args.service not in known:
        raise SystemExit(f"unknown service {args.service!r}; known: {', '.join(sorted(known))}")
    known[args.service].load()()
    return {"service": args.service, "stopped": True}


def bench_command(args: argparse.Namespace) -> dict[str, Any]:
    # heavy imports only when asked
    if args.target == "exam-session":
        from proctor_cli.bench import exam_session

        return asyncio.run(exam_session.run(args.candidates or 10_000, args.concurrency, args.questions,
                                            args.expected_saves_per_s, args.replicas))
    if args.target == "exam-session-scale":
        from proctor_cli.bench import exam_session_scale

        return asyncio.run(exam_session_scale.run(args.candidates or 1_000_000))
    if args.target == "media-ingest":
        from proctor_cli.bench import media_ingest

        return asyncio.run(media_ingest.run(args.streams, args.segments, args.chunk_kib, not args.no_factors,
                                            args.live_streams, args.live_segments))
    if args.target == "anomaly":
        from proctor_cli.bench import anomaly

        return asyncio.run(anomaly.run(args.candidates or 10, args.seconds, args.live_candidates))
    if args.target == "notify":
        from proctor_cli.bench import notify

        return asyncio.run(notify.run(args.subscribers, args.rooms, rate=args.rate,
                                      seconds=args.duration))
    if args.target == "auth-face":
        from proctor_faces.bench import bench

        return {"benchmark": "auth-face", **bench(args.frames)}
    from proctor_cli.bench import kafka_clients

    return kafka_clients.run(InfraSettings().kafka_bootstrap, args.messages)
