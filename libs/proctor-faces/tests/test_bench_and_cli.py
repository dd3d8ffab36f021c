"""The benchmark's report shape (no timing assertions) and the eval CLI's JSON contract."""

from __future__ import annotations

import argparse
import json

from proctor_cli import commands_eval
from proctor_cli.main import emit
from proctor_faces.bench import bench, sample_frame


def test_bench_reports_latency_and_stages(pack):
    assert sample_frame().shape == (480, 640, 3)
    r = bench(frames=3, pack=pack)
    assert r["threads"] == 1 and r["frame"] == "640x480"
    for key in ("p50_ms", "p99_ms", "verifications_per_s_per_core"):
        assert r[key] > 0
    assert set(r["stages"]) == {"detect", "landmarks", "embed"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="proctor")
    commands_eval.register(p.add_subparsers(dest="command", required=True))
    return p


def test_eval_faces_cli_prints_one_json_object(shared_faces, capsys):
    args = _parser().parse_args(["eval", "faces", "--manifest", str(shared_faces / "manifest.csv"), "--json"])
    emit(args.handler(args), args.json)
    out = json.loads(capsys.readouterr().out)
    for key in ("multi_face_recall", "face_count_exact", "no_face_specificity", "single_face_accuracy",
                "mask_precision", "mask_recall", "away_precision", "away_recall"):
        assert 0.0 <= out[key] <= 1.0


def test_eval_subcommands_parse():
    p = _parser()
    a = p.parse_args(["eval", "verify", "--pairs", "p.csv", "--root", "/d", "--json"])
    assert a.handler is commands_eval.verify_command and a.json
    a = p.parse_args(["eval", "quality", "--manifest", "m.csv", "--pack", "insightface", "--model-dir", "/m"])
    assert a.handler is commands_eval.quality_command and str(a.model_dir) == "/m"
