"""The insightface pack's loading and routing, with tiny ONNX graphs made here (no download):
a SCRFD-shaped detector (9 outputs) and an ArcFace-shaped recogniser (112x112 -> 512)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from proctor_faces import FacesSettings, build_pack
from proctor_faces.packs.insightface_pack import ArcFaceEmbedder, ScrfdDetector, route_models
from proctor_faces.types import Detection


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def tiny_scrfd(path: Path, face_logit: float = -8.0) -> Path:
    """Per stride 8/16/32: a strided conv head -> (N, 1) scores (sigmoid), (N, 4) boxes, (N, 10)
    keypoints, two anchors per cell: the 9-output layout insightface routes to SCRFD."""
    inp = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "height", "width"])
    nodes, inits, outs = [], [], {"score": [], "bbox": [], "kps": []}
    for s in (8, 16, 32):
        for kind, ch in (("score", 1), ("bbox", 4), ("kps", 10)):
            w = np.zeros((2 * ch, 3, s, s), np.float32)
            b = np.full((2 * ch,), face_logit if kind == "score" else 1.0, np.float32)
            name = f"{kind}_{s}"
            inits += [numpy_helper.from_array(w, f"{name}_w"), numpy_helper.from_array(b, f"{name}_b"),
                      numpy_helper.from_array(np.array([-1, ch], np.int64), f"{name}_shape")]
            nodes += [helper.make_node("Conv", ["input.1", f"{name}_w", f"{name}_b"], [f"{name}_c"],
                                       kernel_shape=[s, s], strides=[s, s]),
                      helper.make_node("Transpose", [f"{name}_c"], [f"{name}_t"], perm=[0, 2, 3, 1]),
                      helper.make_node("Reshape", [f"{name}_t", f"{name}_shape"],
                                       [f"{name}_r" if kind == "score" else name])]
            if kind == "score":
                nodes.append(helper.make_node("Sigmoid", [f"{name}_r"], [name]))
            outs[kind].append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", ch]))
    graph = helper.make_graph(nodes, "tiny_scrfd", [inp], outs["score"] + outs["bbox"] + outs["kps"], inits)
    return _save(graph, path)


def tiny_arcface(path: Path) -> Path:
    inp = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["n", 3, 112, 112])
    out = helper.make_tensor_value_info("683", TensorProto.FLOAT, ["n", 512])
    w = np.random.default_rng(0).normal(size=(3, 512)).astype(np.float32)
    nodes = [helper.make_node("GlobalAveragePool", ["input.1"], ["gap"]),
             helper.make_node("Flatten", ["gap"], ["flat"]),
             helper.make_node("MatMul", ["flat", "w"], ["683"])]
    graph = helper.make_graph(nodes, "tiny_arcface", [inp], [out], [numpy_helper.from_array(w, "w")])
    return _save(graph, path)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    d = tmp_path / "buffalo_test"
    d.mkdir()
    tiny_scrfd(d / "det_tiny.onnx")
    tiny_arcface(d / "w_tiny_r.onnx")
    (d / "README.txt").write_text("not a model\n")
    return d


def test_models_are_routed_by_shape(model_dir):
    found = route_models(model_dir, threads=1)
    assert set(found) == {"detection", "recognition"}
    assert found["detection"][1].name == "det_tiny.onnx"
    assert found["recognition"][1].name == "w_tiny_r.onnx"


def test_pack_selected_by_configuration(model_dir, astronaut):
    pack = build_pack(FacesSettings(pack="insightface", model_dir=model_dir))
    assert isinstance(pack.detector, ScrfdDetector) and isinstance(pack.embedder, ArcFaceEmbedder)
    assert pack.embedder.dim == 512
    assert pack.describe()["detector"]["version"].startswith("det_tiny.onnx#sha256:")
    assert pack.detector.detect(astronaut) == []  # the tiny detector never fires
    det = Detection(box=(180.0, 60.0, 330.0, 240.0), score=1.0,
                    keypoints=np.array([[220, 130], [290, 130], [255, 170], [225, 205], [285, 205]], np.float32))
    emb = pack.embedder.embed(astronaut, det)
    assert emb.shape == (512,) and abs(float(np.linalg.norm(emb)) - 1.0) < 1e-5
    pack.warm()


def test_firing_detector_goes_through_scrfd_decoding(tmp_path, astronaut):
    d = tmp_path / "m"
    d.mkdir()
    tiny_scrfd(d / "det.onnx", face_logit=8.0)
    tiny_arcface(d / "rec.onnx")
    pack = build_pack(FacesSettings(pack="insightface", model_dir=d))
    dets = pack.detector.detect(astronaut)
    assert dets and all(x.keypoints.shape == (5, 2) and x.score > 0.99 for x in dets)


def test_missing_directory_or_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        route_models(tmp_path / "absent", threads=1)
    only_rec = tmp_path / "rec_only"
    only_rec.mkdir()
    tiny_arcface(only_rec / "rec.onnx")
    with pytest.raises(ValueError, match="detection"):
        route_models(only_rec, threads=1)
    with pytest.raises(ValueError, match="MODEL_DIR"):
        build_pack(FacesSettings(pack="insightface"))
