"""Identity transfer with the real offline embedder (dlib_resnet, built through the catalog)."""

from __future__ import annotations

import numpy as np
import pytest
from fswap_eval_toys import PHOTO_POINTS

from fswap.builder import build
from fswap.catalog import Catalog
from fswap.components import Detection, Kind
from fswap.evaluate import faces as fx
from fswap.evaluate import metrics
from fswap.plugins import make_plugin_manager
from fswap.samples import apply_transform, public_domain_face, similarity
from fswap.structure import Context, structure_component


@pytest.fixture(scope="module")
def parts() -> tuple[object, object]:
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    ctx = Context(catalog=catalog)
    embedder = build(structure_component(Kind.EMBEDDER, {"use": "dlib_resnet"}, ctx=ctx,
                                         section="evaluate.embedder"))
    aligner = build(structure_component(Kind.ALIGNER, {"use": "umeyama5"}, ctx=ctx,
                                        section="evaluate.aligner"))
    return embedder, aligner


def _crops(aligner: object, name: str, poses: list[tuple[float, float]]) -> np.ndarray:
    """Aligned crops of a sample photo re-framed with (scale, angle) similarity transforms."""
    import cv2

    photo = public_domain_face(name)
    pts = np.asarray(PHOTO_POINTS[name])
    out = []
    for scale, angle in poses:
        centre = pts.mean(axis=0)
        m = similarity(scale, angle, centre, centre)
        frame = cv2.warpAffine(photo, m, (photo.shape[1], photo.shape[0]), borderMode=cv2.BORDER_REFLECT101)
        moved = apply_transform(m, pts)
        x0, y0 = moved.min(axis=0) - 30
        det = Detection(box=(x0, y0, 100, 120), confidence=1.0, landmarks=moved)
        out.append(aligner.align(frame, det).image)  # type: ignore[attr-defined]
    return np.stack(out)


def test_identical_face_has_zero_distance_and_a_swap_to_another_person_is_far(parts) -> None:
    embedder, aligner = parts
    poses = [(1.0, 0.0), (0.9, 4.0), (1.1, -4.0), (0.95, 2.0)]
    a = _crops(aligner, "astronaut", poses)
    b = _crops(aligner, "grace_hopper", poses)
    # identical faces: distance 0 (same descriptor) and SSIM 1
    emb = fx.embed(embedder, a[:1], batch_size=4)
    assert float(embedder.distance(emb, emb)[0]) == pytest.approx(0.0, abs=1e-6)
    assert metrics.cosine_distance(emb, emb)[0] == pytest.approx(0.0, abs=1e-6)
    assert metrics.ssim(a[0], a[0]) == pytest.approx(1.0)
    # identity scores: the "swap" that outputs B's face is far from A and near B; the non-swap the reverse
    reference = fx.identity_reference(embedder, {"a": a[1:], "b": b[1:]}, batch_size=4)
    swapped = fx.identity_scores(embedder, reference, source="a", swapped=b[:1], real_source=a[:1],
                                 real_target=b[:1], files=["a0"], batch_size=4)
    unchanged = fx.identity_scores(embedder, reference, source="a", swapped=a[:1], real_source=a[:1],
                                   real_target=b[:1], files=["a0"], batch_size=4)
    assert swapped["closer_to_target"] == 1.0 and unchanged["closer_to_target"] == 0.0
    assert unchanged["distance_to_source"] < 0.4  # same person: well under dlib's 0.6 threshold
    assert swapped["distance_to_source"] > 0.6 > swapped["distance_to_target"]
    assert swapped["distance_to_source"] > 2 * unchanged["distance_to_source"]
