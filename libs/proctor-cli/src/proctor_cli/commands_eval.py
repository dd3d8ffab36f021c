"""``proctor eval verify|quality|faces|video``: the face model pack's acceptance metrics on labelled data
(the formats of ``shared/testdata/faces``: ``pairs.csv`` and ``manifest.csv``); ``video`` runs the anomaly
service's whole per-candidate pipeline (sampling, detectors, temporal logic) over the manifest's clips."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    ev = sub.add_parser("eval", help="evaluate the face model pack on labelled photos")
    ev_sub = ev.add_subparsers(dest="eval_command", required=True)
    verify = ev_sub.add_parser("verify", help="verification: EER, TAR at FAR, FAR/FRR at the threshold")
    verify.add_argument("--pairs", type=Path, required=True, help="CSV: file_a,file_b,same_identity")
    verify.set_defaults(handler=verify_command)
    quality = ev_sub.add_parser("quality", help="enrolment gates: accepted/refused per category")
    quality.add_argument("--manifest", type=Path, required=True)
    quality.set_defaults(handler=quality_command)
    faces = ev_sub.add_parser("faces", help="frame detectors: face count, mask, pose away")
    faces.add_argument("--manifest", type=Path, required=True)
    faces.set_defaults(handler=faces_command)
    video = ev_sub.add_parser("video", help="anomaly pipeline over the manifest's video rows: incidents per clip")
    video.add_argument("--manifest", type=Path, required=True)
    video.add_argument("--rate", type=float, default=1.0, help="sampled frames per second of media (default 1)")
    video.add_argument("--mode", choices=["auto", "keyframes", "decode"], default="auto",
                       help="frame sampling: keyframes only when the keyframe interval allows (auto), or forced")
    video.add_argument("--identity-interval", type=float, default=10.0,
                       help="seconds between identity checks (10-30; default 10, the clips are 7-15 s long)")
    video.add_argument("--calm-period", type=float, default=None,
                       help="adaptive sampling: seconds between analysed frames while all is normal "
                            "(default: the service's, 3; 0 = analyse every sampled frame)")
    video.set_defaults(handler=video_command)
    for p in (verify, quality, faces, video):
        p.add_argument("--root", type=Path, default=None, help="paths in the CSV are relative to this "
                       "(default: the CSV's folder)")
        p.add_argument("--pack", choices=["default", "insightface"], default=None,
                       help="overrides PROCTOR_FACES_PACK")
        p.add_argument("--model-dir", type=Path, default=None, help="insightface: mounted model directory")
        p.add_argument("--json", action="store_true")


def _pack(args: argparse.Namespace) -> Any:
    from proctor_faces.config import FacesSettings
    from proctor_faces.packs import load_pack

    overrides = {k: v for k, v in (("pack", args.pack), ("model_dir", args.model_dir)) if v is not None}
    return load_pack(FacesSettings(**overrides))


def _root(args: argparse.Namespace, csv_path: Path) -> Path:
    return args.root if args.root is not None else csv_path.parent


def _text(result: dict[str, Any], keys: list[str]) -> str:
    return "\n".join(f"{k:<24} {result[k]}" for k in keys if k in result)


def verify_command(args: argparse.Namespace) -> dict[str, Any]:
    from proctor_faces.evaluation import eval_verify

    result = eval_verify(args.pairs, _root(args, args.pairs), _pack(args))
    result["text"] = _text(result, ["pairs", "pairs_scored", "failure_to_enrol", "eer", "tar_at_far_1pct",
                                    "tar_at_far_0_1pct", "threshold", "far_at_threshold", "frr_at_threshold"])
    return result


def quality_command(args: argparse.Namespace) -> dict[str, Any]:
    from proctor_faces.evaluation import eval_quality

    result = eval_quality(args.manifest, _root(args, args.manifest), _pack(args))
    lines = [f"{cat:<16} accepted={v['accepted']:<4} refused={v['refused']:<4} {v['reasons']}"
             for cat, v in result["categories"].items()]
    lines.append(_text(result, ["masked_refusal_rate", "clean_acceptance_rate"]))
    result["text"] = "\n".join(lines)
    return result


def faces_command(args: argparse.Namespace) -> dict[str, Any]:
    from proctor_faces.evaluation import eval_faces

    result = eval_faces(args.manifest, _root(args, args.manifest), _pack(args))
    result["text"] = _text(result, ["multi_face_recall", "face_count_exact", "no_face_specificity",
                                    "single_face_accuracy", "mask_precision", "mask_recall",
                                    "away_precision", "away_recall"])
    return result


def video_command(args: argparse.Namespace) -> dict[str, Any]:
    from anomaly.evaluation import eval_video
    from anomaly.temporal import DetectorSettings

    calm = {} if args.calm_period is None else {"calm_sample_period_s": args.calm_period}
    settings = DetectorSettings(identity_interval_s=args.identity_interval, **calm)
    result = eval_video(args.manifest, _root(args, args.manifest), _pack(args), rate=args.rate, settings=settings,
                        mode=args.mode)
    lines = []
    for name, clip in result["clips"].items():
        found = ", ".join(f"{i['kind']} {i['start_s']}-{i['end_s']}s {i['severity']}" for i in clip["incidents"])
        lines.append(f"{name:<26} {clip['sampling_mode']:<9} frames {clip['frames_sampled']:>3} sampled "
                     f"{clip['frames_declined']:>3} declined {clip['frames_analysed']:>3} analysed  "
                     f"{found or 'no incident'}")
    lines.append(f"checks: {result['checks']}")
    lines.append(f"totals: {result['totals']}")
    result["text"] = "\n".join(lines)
    return result
