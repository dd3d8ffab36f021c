"""Acceptance checks on the real labelled photos in shared/testdata/faces (skipped when absent).
Every image is analysed once per session (``proctor_faces.evaluation`` caches per pack)."""

from __future__ import annotations

import pytest

from proctor_faces import evaluation as ev

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def verify_result(shared_faces, pack):
    return ev.eval_verify(shared_faces / "pairs.csv", shared_faces, pack)


@pytest.fixture(scope="module")
def faces_result(shared_faces, pack):
    return ev.eval_faces(shared_faces / "manifest.csv", shared_faces, pack)


@pytest.fixture(scope="module")
def quality_result(shared_faces, pack):
    return ev.eval_quality(shared_faces / "manifest.csv", shared_faces, pack)


def test_verification_targets(verify_result):
    r = verify_result
    assert r["pairs"] == 460 and r["genuine_pairs"] > 150 and r["impostor_pairs"] > 150
    assert r["failure_to_enrol"] <= 0.05
    assert r["tar_at_far_1pct"] >= 0.97
    assert r["far_at_threshold"] <= 0.01
    assert r["frr_at_threshold"] <= 0.03


def test_enrolment_gate_targets(quality_result):
    assert quality_result["masked_refusal_rate"] >= 0.90
    assert quality_result["clean_acceptance_rate"] >= 0.95
    assert quality_result["categories"]["no_face"]["accepted"] == 0


def test_face_count_targets(faces_result):
    assert faces_result["multi_face_recall"] >= 0.95
    assert faces_result["face_count_exact"] >= 0.70
    assert faces_result["no_face_specificity"] >= 0.95
    assert faces_result["single_face_accuracy"] >= 0.95


def test_mask_targets(faces_result):
    assert faces_result["mask_recall"] >= 0.85
    assert faces_result["mask_precision"] >= 0.90


def test_pose_away_targets(faces_result):
    assert faces_result["counts"]["away"] >= 10 and faces_result["counts"]["frontal"] >= 3
    assert faces_result["away_recall"] >= 0.85
    assert faces_result["away_precision"] >= 0.85
