"""dlib components that work offline with the models shipped in `face-recognition-models`: the 68-point
aligner `dlib68` and the 128-d ResNet identity embedder `dlib_resnet`. Registration imports no dlib."""

from __future__ import annotations

from fswap import ComponentSpec, Kind, hookimpl
from fswap_dlib.config import Dlib68Config, DlibResnetConfig


@hookimpl
def fswap_register_aligners() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind=Kind.ALIGNER,
            name="dlib68",
            factory="fswap_dlib.aligner:Dlib68Aligner",
            config=Dlib68Config,
            summary="dlib's 68-point shape predictor inside the detector's box, then the 5-point alignment.",
        )
    ]


@hookimpl
def fswap_register_embedders() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind=Kind.EMBEDDER,
            name="dlib_resnet",
            factory="fswap_dlib.embedder:DlibResnetEmbedder",
            config=DlibResnetConfig,
            summary="dlib's ResNet face descriptor (128-d, Euclidean distance; same person below ~0.6).",
        )
    ]
