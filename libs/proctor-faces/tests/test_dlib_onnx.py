"""dlib's face ResNet run by onnxruntime (``proctor_faces.packs.dlib_onnx``) against dlib itself, on
real face chips aligned the way ``DlibResNet.align`` does (the product's path: ``analyse_work`` then
``embed_face``'s detection shift), plus the parser's errors on damaged model files."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from proctor_faces.analysis import analyse_work, shift_detection  # noqa: E402
from proctor_faces.packs.dlib_onnx import (  # noqa: E402
    AddPrev,
    Conv,
    OnnxFaceDescriptor,
    Pool,
    Skip,
    Tag,
    build_onnx,
    load_network,
    parse_dlib_network,
)
from proctor_faces.packs.dlib_resnet import EMBED_MODEL, DlibResNet, models_dir  # noqa: E402

TOLERANCE = 1e-4  # max abs difference per component vs dlib (stored templates were made by dlib)
MODEL = models_dir() / EMBED_MODEL


@pytest.fixture(scope="module")
def onnx_net() -> OnnxFaceDescriptor:
    return OnnxFaceDescriptor(MODEL)


@pytest.fixture(scope="module")
def resnet(pack) -> DlibResNet:
    assert isinstance(pack.embedder, DlibResNet)
    return pack.embedder


@pytest.fixture(scope="module")
def dlib_net():
    """dlib's own runtime of the same file: the reference (the pack itself runs the ONNX graph)."""
    import dlib

    return dlib.face_recognition_model_v1(str(MODEL))


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return MODEL.read_bytes()


def face_chips(img: np.ndarray, pack, resnet: DlibResNet) -> list[np.ndarray]:
    """150x150 RGB chips of every face the pack finds, as ``enrol.embed_face`` makes them."""
    work, faces = analyse_work(img, pack)
    dx, dy = work.offset
    return [resnet.align(work.frame, shift_detection(f.detection, dx, dy)) for f in faces]


def dlib_descriptor(dlib_net, chip: np.ndarray) -> np.ndarray:
    return np.asarray(dlib_net.compute_face_descriptor(chip), np.float64)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def compare(chips: dict[str, np.ndarray], dlib_net, onnx_net: OnnxFaceDescriptor):
    """(dlib, onnx) descriptors per chip, checking the per-component tolerance on each."""
    ref, got = {}, {}
    for name, chip in chips.items():
        assert chip.shape == (150, 150, 3) and chip.dtype == np.uint8
        ref[name] = dlib_descriptor(dlib_net, chip)
        got[name] = onnx_net.compute_face_descriptor(chip)
        assert got[name].shape == (128,) and got[name].dtype == np.float32
        diff = float(np.abs(ref[name] - got[name]).max())
        assert diff <= TOLERANCE, f"{name}: max abs difference {diff:.3g} vs dlib"
    return ref, got


@pytest.fixture(scope="module")
def package_chips(pack, resnet, astronaut, hanks, group) -> dict[str, np.ndarray]:
    chips = {}
    for name, img in (("astronaut", astronaut), ("hanks", hanks), ("group", group),
                      ("astronaut_320", cv2.resize(astronaut, (320, 320), interpolation=cv2.INTER_AREA)),
                      ("astronaut_flipped", astronaut[:, ::-1].copy())):
        found = face_chips(img, pack, resnet)
        assert found, f"no face found on {name}"
        for i, chip in enumerate(found):
            chips[f"{name}[{i}]"] = chip
    assert sum(k.startswith("group[") for k in chips) == 6
    return chips


@pytest.fixture(scope="module")
def package_descriptors(package_chips, dlib_net, onnx_net):
    return compare(package_chips, dlib_net, onnx_net)


def test_descriptors_match_dlib_on_real_chips(package_descriptors):
    ref, got = package_descriptors  # compare() checked the tolerance on every chip
    assert len(ref) >= 10
    for name in ref:  # dlib does not normalise, neither do we
        assert abs(np.linalg.norm(got[name]) - np.linalg.norm(ref[name])) < 1e-4
        assert abs(np.linalg.norm(got[name]) - 1.0) > 0.05


def test_same_and_different_person_distances_are_preserved(package_descriptors, pack):
    ref, got = package_descriptors
    threshold = pack.thresholds.verify_distance  # on L2-normalised embeddings, as DlibResNet.embed gives
    same = [("astronaut[0]", "astronaut_320[0]"), ("astronaut[0]", "astronaut_flipped[0]"),
            ("astronaut_320[0]", "astronaut_flipped[0]")]
    people = ["astronaut[0]", "hanks[0]", *(k for k in ref if k.startswith("group["))]
    different = list(itertools.combinations(people, 2))
    for a, b in same + different:
        d_ref = float(np.linalg.norm(unit(ref[a]) - unit(ref[b])))
        d_got = float(np.linalg.norm(unit(got[a]) - unit(got[b])))
        assert abs(d_ref - d_got) < 1e-4, (a, b, d_ref, d_got)
        assert (d_got <= threshold) == (d_ref <= threshold), (a, b, d_ref, d_got)
    assert max(np.linalg.norm(unit(got[a]) - unit(got[b])) for a, b in same) < threshold
    assert min(np.linalg.norm(unit(got[a]) - unit(got[b])) for a, b in different) > threshold


@pytest.mark.shared_data
def test_matches_dlib_on_shared_verification_photos(shared_faces: Path, pack, resnet, dlib_net, onnx_net):
    """A handful of the shared verification photos: 4 identities, 2 photos each."""
    with (shared_faces / "pairs.csv").open(newline="") as f:
        files = sorted({row[k] for row in csv.DictReader(f) for k in ("file_a", "file_b")})
    by_identity: dict[str, list[str]] = {}
    for name in files:
        by_identity.setdefault(Path(name).parent.name, []).append(name)
    chosen = [names[:2] for _, names in sorted(by_identity.items()) if len(names) >= 2]
    picked = [chosen[i] for i in np.linspace(0, len(chosen) - 1, 4).round().astype(int)]
    chips = {}
    for name in itertools.chain.from_iterable(picked):
        img = cv2.imread(str(shared_faces / name))
        assert img is not None, name
        found = face_chips(img, pack, resnet)
        if found:
            chips[name] = found[0]
    assert len(chips) >= 6, f"too few faces found: {sorted(chips)}"
    ref, got = compare(chips, dlib_net, onnx_net)
    threshold = pack.thresholds.verify_distance
    for a, b in itertools.combinations(sorted(chips), 2):
        d_ref = float(np.linalg.norm(unit(ref[a]) - unit(ref[b])))
        d_got = float(np.linalg.norm(unit(got[a]) - unit(got[b])))
        assert abs(d_ref - d_got) < 1e-4, (a, b, d_ref, d_got)
        assert (d_got <= threshold) == (d_ref <= threshold), (a, b, d_ref, d_got)
        if Path(a).parent != Path(b).parent:
            assert d_got > threshold, (a, b, d_got)


def test_batch_and_float_input_give_the_same_descriptors(package_chips, onnx_net):
    chips = np.stack(list(package_chips.values()))
    batch = onnx_net.compute_face_descriptors(chips)
    single = np.stack([onnx_net.compute_face_descriptor(c) for c in chips])
    assert batch.shape == (len(chips), 128)
    np.testing.assert_allclose(batch, single, atol=1e-5)

    import onnxruntime as ort

    model = build_onnx(load_network(MODEL), "float32")
    onnx.checker.check_model(model)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"chips": chips.astype(np.float32)})[0]
    np.testing.assert_allclose(out, batch, atol=1e-5)


def test_chip_must_be_150x150_rgb_uint8(onnx_net):
    assert onnx_net.size == (150, 150) and "Conv x29" in onnx_net.summary
    with pytest.raises(ValueError, match="150"):
        onnx_net.compute_face_descriptor(np.zeros((112, 112, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        onnx_net.compute_face_descriptor(np.zeros((150, 150, 3), np.float32))
    with pytest.raises(ValueError, match="jitter"):
        onnx_net.compute_face_descriptor(np.zeros((150, 150, 3), np.uint8), num_jitters=10)


def test_network_holds_dlibs_traps():
    net = load_network(MODEL)
    convs = [layer for layer in net.layers if isinstance(layer, Conv)]
    assert len(convs) == 29
    for conv in convs:  # dlib's default padding: stride != 1 ? 0 : size/2
        assert conv.padding == ((0, 0) if conv.stride != (1, 1) else (conv.kernel[0] // 2, conv.kernel[1] // 2))
    assert convs[0].weight.shape == (32, 3, 7, 7) and convs[0].stride == (2, 2)
    assert sum(isinstance(layer, Skip) for layer in net.layers) == 4
    assert sum(isinstance(layer, Tag) for layer in net.layers) == 18
    assert {layer.tag for layer in net.layers if isinstance(layer, AddPrev)} == {1, 2}
    pools = [layer for layer in net.layers if isinstance(layer, Pool)]
    assert [(p.kind, p.size, p.stride, p.padding) for p in pools] == [
        ("max", (3, 3), (2, 2), (0, 0)), *[("avg", (2, 2), (2, 2), (0, 0))] * 4, ("avg", (0, 0), (1, 1), (0, 0))]
    assert net.input.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    assert (net.input.nr, net.input.nc) == (150, 150)
    assert net.loss.dist_thresh == pytest.approx(0.6)
    # residual_down's add_prev of unequal shapes: pooled 32->64, 64->128, 128->256 channels; the 3x3 conv
    # output padded to the 4x4 pooled map at 8x8 (and its pool's channels), 1x1 to 2x2 at 4x4
    model = build_onnx(net)
    assert sum(node.op_type == "Pad" for node in model.graph.node) == 5


def test_truncated_file_is_a_readable_error(model_bytes):
    for cut in (3, 300, len(model_bytes) // 2, len(model_bytes) - 1):
        with pytest.raises(ValueError, match="truncated"):
            parse_dlib_network(model_bytes[:cut])


def test_corrupted_layer_name_is_an_error(model_bytes):
    at = model_bytes.index(b"\x05con_4", model_bytes.index(b"input_rgb_image_sized"))
    with pytest.raises(ValueError, match=r"unknown or unsupported dlib layer type 'cxn_4' at offset \d+"):
        parse_dlib_network(model_bytes[:at] + b"\x05cxn_4" + model_bytes[at + 6:])
    at = model_bytes.index(b"\x05relu_")
    with pytest.raises(ValueError, match="'relv_'"):
        parse_dlib_network(model_bytes[:at] + b"\x05relv_" + model_bytes[at + 6:])
    at = model_bytes.index(b"input_rgb_image_sized")
    with pytest.raises(ValueError, match="inpxt_rgb_image_sized"):
        parse_dlib_network(model_bytes[:at] + b"inpxt" + model_bytes[at + 5:])


def test_other_damage_is_an_error(model_bytes):
    with pytest.raises(ValueError, match="not a dlib network file"):
        parse_dlib_network(b"\x01\x07" + model_bytes[2:])
    with pytest.raises(ValueError, match="unexpected bytes after the network"):
        parse_dlib_network(model_bytes + b"\x00")
    # a filter count that does not match the params tensor: first con_4's num_filters 32 -> 33
    at = model_bytes.index(b"\x05con_4")
    params_end = at + 6 + 2 + 3 + 6 + 4 * 4736
    assert model_bytes[params_end:params_end + 2] == b"\x01\x20"
    with pytest.raises(ValueError, match="do not match num_filters=33"):
        parse_dlib_network(model_bytes[:params_end] + b"\x01\x21" + model_bytes[params_end + 2:])


def test_the_pack_embeds_with_the_onnx_graph(resnet):
    """The default pack's embedder runs the ONNX graph, not dlib's runtime (the reason for this module)."""
    assert isinstance(resnet.net, OnnxFaceDescriptor)
