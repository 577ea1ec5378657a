"""Every installed component (fswap's built-ins and the example plugin) passes the plugin-author kit's
behavioural contract check for its kind — the same checks third-party authors run."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest

from fswap import testing
from fswap.catalog import Catalog
from fswap.kinds import KINDS
from fswap.plugins import make_plugin_manager

CATALOG = Catalog.from_plugin_manager(make_plugin_manager())

CHECKS: dict[str, Callable[..., Any]] = {str(row.kind): row.load_check() for row in KINDS}
"""Each kind's contract check, from the one table of kinds (fswap.kinds)."""
NEEDS_68_POINTS = {("mask_generator", "parts68")}
SHAPE_PREDICTOR = "models/shape_predictor_68_face_landmarks.dat"


class DlibStandInFan:
    """Stands in for face_alignment.FaceAlignment (the package and its PyTorch weights are an optional
    download): `get_landmarks_from_image(rgb, detected_faces=[(x1, y1, x2, y2)])` runs dlib's 68-point
    shape predictor on the image and box it is given, so the adapter's own code (colour order, box,
    result parsing, alignment) runs on real landmarks of the sample face."""

    def __init__(self, kind: Any, *, device: str, flip_input: bool, face_detector: str) -> None:
        import importlib.util

        import dlib

        assert (kind, face_detector) == ("2D", "folder"), (kind, face_detector)  # what the adapter asks
        models = importlib.util.find_spec("face_recognition_models")
        assert models is not None and models.submodule_search_locations
        folder = next(iter(models.submodule_search_locations))
        self.predictor = dlib.shape_predictor(f"{folder}/{SHAPE_PREDICTOR}")

    def get_landmarks_from_image(
        self, image: np.ndarray, detected_faces: list[np.ndarray]
    ) -> list[np.ndarray]:
        import dlib

        found = []
        for x1, y1, x2, y2 in detected_faces:
            shape = self.predictor(image, dlib.rectangle(int(x1), int(y1), int(x2), int(y2)))
            found.append(np.array([(p.x, p.y) for p in shape.parts()], np.float32))
        return found


def _stand_in_face_alignment(monkeypatch: pytest.MonkeyPatch, _: pytest.FixtureRequest) -> dict[str, Any]:
    from fswap_face_alignment import aligner

    kinds = types.SimpleNamespace(TWO_D="2D")
    package = types.SimpleNamespace(LandmarksType=kinds, FaceAlignment=DlibStandInFan)
    monkeypatch.setattr(aligner, "_import_face_alignment", lambda: package)
    return {}


def _random_facenet_weights(_: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"weights": request.getfixturevalue("facenet_random_weights").path}


# Built-ins whose real dependency is a download or an optional extra: the contract runs against weights or
# a stand-in built here, so nothing is skipped on a fresh clone. Each returns config overrides.
Prepare = Callable[[pytest.MonkeyPatch, pytest.FixtureRequest], dict[str, Any]]
PREPARE: dict[tuple[str, str], Prepare] = {
    ("aligner", "face_alignment"): _stand_in_face_alignment,
    ("embedder", "facenet"): _random_facenet_weights,
}


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "name"), [(str(e.spec.kind), e.spec.name) for e in CATALOG])
def test_installed_component_passes_its_contract_check(
    kind: str, name: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    spec = CATALOG.get(kind, name).spec
    kwargs: dict[str, Any] = {"points": 68} if (kind, name) in NEEDS_68_POINTS else {}
    prepare = PREPARE.get((kind, name))
    overrides = prepare(monkeypatch, request) if prepare else {}
    testing.check_spec(spec)
    built = attrs.evolve(spec.config(), **overrides)
    CHECKS[kind](spec, config=built, **kwargs)


def test_every_builtin_that_needs_a_download_or_extra_is_prepared() -> None:
    """The components PREPARE knows are installed (a renamed one would silently lose its contract run)."""
    installed = {(str(e.spec.kind), e.spec.name) for e in CATALOG}
    assert set(PREPARE) <= installed
