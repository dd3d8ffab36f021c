"""``bench(frames=200)``: latency of a whole verification (detect + landmarks + embed) on a 640x480
frame with the pack's thread count (one by default), and where the time goes. Wall-clock latencies
include whatever else the machine runs; ``verification_cpu`` is the process CPU time per call."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from proctor_faces.analysis import analyse_work
from proctor_faces.enrol import embed_face
from proctor_faces.packs.base import ModelPack
from proctor_faces.verify import verify


def sample_frame() -> np.ndarray:
    """A 640x480 webcam-like frame with one real face: scikit-image's astronaut when installed,
    else the Tom Hanks sample from the insightface wheel, centred on a grey background."""
    frame = np.full((480, 640, 3), 110, np.uint8)
    face: np.ndarray | None = None
    if importlib.util.find_spec("skimage") is not None:
        from skimage import data

        face = cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR)
        face = cv2.resize(face, (480, 480), interpolation=cv2.INTER_AREA)
    else:
        spec = importlib.util.find_spec("insightface")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("no sample face image: install scikit-image or insightface")
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / "images" / "Tom_Hanks_54745.png"
        face = cv2.resize(cv2.imread(str(path)), (240, 240), interpolation=cv2.INTER_CUBIC)
    h, w = face.shape[:2]
    y, x = (480 - h) // 2, (640 - w) // 2
    frame[y:y + h, x:x + w] = face
    return frame


def _stats(ms: list[float]) -> dict[str, float]:
    a = np.array(ms)
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p99_ms": round(float(np.percentile(a, 99)), 2),
            "mean_ms": round(float(a.mean()), 2)}


def bench(frames: int = 200, pack: ModelPack | None = None, frame: np.ndarray | None = None) -> dict[str, Any]:
    if pack is None:
        from proctor_faces.packs import load_pack

        pack = load_pack()
    img = sample_frame() if frame is None else frame
    work, faces = analyse_work(img, pack, max_faces=1)
    if not faces:
        raise RuntimeError("the benchmark frame has no face")
    template = embed_face(work, faces[0], pack)
    det_ms, lm_ms, emb_ms, total_ms = [], [], [], []
    for _ in range(frames):
        t0 = time.perf_counter()
        dets = pack.counter.detect(img)
        t1 = time.perf_counter()
        lm = pack.landmarker.landmarks(img, dets[0])
        t2 = time.perf_counter()
        pack.embedder.embed(img, dets[0])
        t3 = time.perf_counter()
        det_ms.append((t1 - t0) * 1e3)
        lm_ms.append((t2 - t1) * 1e3)
        emb_ms.append((t3 - t2) * 1e3)
        assert lm is not None
    cpu_ms = []
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for _ in range(frames):
        t0, c0 = time.perf_counter(), time.process_time()
        verify(img, template, pack)
        total_ms.append((time.perf_counter() - t0) * 1e3)
        cpu_ms.append((time.process_time() - c0) * 1e3)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    total = _stats(total_ms)
    return {
        "pack": pack.template_tag(), "threads": pack.threads, "frames": frames, "frame": "640x480",
        "verification": total, "p50_ms": total["p50_ms"], "p99_ms": total["p99_ms"],
        # CPU time per verification: what the model costs, unaffected by other processes on the machine
        "verification_cpu": _stats(cpu_ms),
        "verifications_per_s_per_core": round(frames / cpu, 2) if cpu > 0 else None,
        "verifications_per_s_wall": round(frames / wall, 2),
        "cpu_cores_used": round(cpu / wall, 2),
        "stages": {"detect": _stats(det_ms), "landmarks": _stats(lm_ms), "embed": _stats(emb_ms)},
        "machine_cores": os.cpu_count(),
        "target_p99_ms": 150, "meets_target": total["p99_ms"] <= 150,
    }
