"""Face-level evaluation on held-out faces: reconstruction quality, identity transfer and mask sanity.

Works on plain callables so it can be tested without a trained model: a generator maps BGR uint8 faces
(N, R, R, 3) to (BGR uint8 (N, R, R, 3), α float32 (N, R, R)) — `fswap.model.generator.FaceGenerator`
satisfies this — and an embedder is any `fswap.components.Embedder`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from fswap.data.faceset import FaceSet
from fswap.evaluate import metrics

Generator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
OTHER = {"a": "b", "b": "a"}


def resize_faces(faces: Sequence[np.ndarray] | np.ndarray, resolution: int) -> np.ndarray:
    """Square BGR crops resized to resolution² (area filter when shrinking)."""
    import cv2

    out = []
    for face in faces:
        if face.shape[0] == resolution and face.shape[1] == resolution:
            out.append(np.ascontiguousarray(face))
            continue
        interp = cv2.INTER_AREA if face.shape[0] > resolution else cv2.INTER_CUBIC
        out.append(cv2.resize(np.ascontiguousarray(face), (resolution, resolution), interpolation=interp))
    return np.stack(out)


def roi_margin(size: int, coverage: float) -> int:
    """Inset per side of the generator's region of interest in a size² aligned crop (as convert uses it:
    int(size·(1 − coverage)); 0.85 keeps the central ±90 px of a 256 crop, the framing training uses)."""
    margin = int(size * (1.0 - coverage))
    if size - 2 * margin <= 0:
        raise ValueError(f"roi_coverage {coverage} leaves no face area in a {size}-pixel crop")
    return margin


def model_inputs(faces: np.ndarray, coverage: float, resolution: int) -> np.ndarray:
    """The generator's inputs for aligned crops: their central ROI resized to the model resolution."""
    m = roi_margin(faces.shape[1], coverage)
    return resize_faces(faces[:, m:faces.shape[1] - m, m:faces.shape[2] - m], resolution)


def paste_roi(faces: np.ndarray, generated: np.ndarray, alpha: np.ndarray, coverage: float) -> np.ndarray:
    """Composite generated R² faces back into the ROI of the full aligned crops (as convert pastes them into
    frames): the full-framing faces an identity embedder expects."""
    import cv2

    m = roi_margin(faces.shape[1], coverage)
    side = faces.shape[1] - 2 * m
    out = faces.copy()
    for n in range(len(faces)):
        g = cv2.resize(generated[n], (side, side), interpolation=cv2.INTER_CUBIC)
        a = cv2.resize(np.asarray(alpha[n], np.float32), (side, side), interpolation=cv2.INTER_LINEAR)
        region = faces[n:n + 1, m:m + side, m:m + side]
        out[n, m:m + side, m:m + side] = composite(g[None], a[None], region)[0]
    return out


def roundtrip(faces: np.ndarray, coverage: float, resolution: int) -> np.ndarray:
    """Real faces whose ROI went down to the model resolution and back: the same resampling generated faces
    get, so embedding distances compare like with like."""
    small = model_inputs(faces, coverage, resolution)
    return paste_roi(faces, small, np.ones(small.shape[:3], np.float32), coverage)


def load_faces(faceset: FaceSet, indices: Sequence[int]) -> np.ndarray:
    """The crops of the given records, (N, S, S, 3) uint8."""
    return np.stack([faceset.load_image(faceset.records[i]) for i in indices])


def spread(indices: Sequence[int], limit: int) -> list[int]:
    """At most `limit` of `indices`, evenly spread (all of them when there are fewer)."""
    items = list(indices)
    if len(items) <= limit:
        return items
    picks = np.linspace(0, len(items) - 1, num=limit).round().astype(int)
    return [items[i] for i in picks]


def run_generator(generator: Generator, faces: np.ndarray, batch_size: int,
                  condition: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Call a generator in batches (with each face's `condition` map when its decoder takes one); returns
    BGR uint8 and α float32 for every face."""
    bgr, alpha = [], []
    for start in range(0, len(faces), batch_size):
        part = faces[start:start + batch_size]
        if condition is None:
            b, a = generator(part)
        else:
            b, a = generator(part, condition=condition[start:start + batch_size])  # type: ignore[call-arg]
        bgr.append(np.asarray(b, dtype=np.uint8))
        alpha.append(np.asarray(a, dtype=np.float32).reshape(len(b), b.shape[1], b.shape[2]))
    return np.concatenate(bgr), np.concatenate(alpha)


def composite(bgr: np.ndarray, alpha: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """What a viewer sees in the crop: α·generated + (1 − α)·input."""
    a = np.clip(alpha, 0.0, 1.0)[..., None]
    out = a * bgr.astype(np.float32) + (1.0 - a) * faces.astype(np.float32)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def reconstruction_scores(inputs: np.ndarray, outputs: np.ndarray, files: Sequence[str]) -> dict[str, Any]:
    """L1, PSNR and SSIM of each output against its input, with their means (PSNR mean over finite values)."""
    rows = []
    for face, out, file in zip(inputs, outputs, files, strict=True):
        rows.append({"file": file, "l1": metrics.l1(face, out), "psnr": metrics.psnr(face, out),
                     "ssim": metrics.ssim(face, out)})
    psnrs = [r["psnr"] for r in rows if np.isfinite(r["psnr"])]
    return {
        "faces": len(rows),
        "l1": float(np.mean([r["l1"] for r in rows])),
        "psnr": float(np.mean(psnrs)) if psnrs else float("inf"),
        "identical_faces": len(rows) - len(psnrs),
        "ssim": float(np.mean([r["ssim"] for r in rows])),
        "per_face": rows,
    }


def embed(embedder: Any, faces: np.ndarray, batch_size: int) -> np.ndarray:
    """Embeddings (N, D) in batches."""
    rows = [np.asarray(embedder.embed(list(faces[s:s + batch_size])), dtype=np.float64)
            for s in range(0, len(faces), batch_size)]
    return np.concatenate(rows)


def embedder_distance(embedder: Any, emb: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The embedder's own distance of every row of `emb` to one reference embedding."""
    ref = np.broadcast_to(np.asarray(reference, dtype=np.float64), emb.shape)
    return np.asarray(embedder.distance(emb, ref), dtype=np.float64).reshape(len(emb))


@attrs.frozen
class IdentityReference:
    """The reference embedding (centroid) of each identity and how many faces made it."""

    centroids: dict[str, np.ndarray]
    counts: dict[str, int]


def identity_reference(embedder: Any, faces: dict[str, np.ndarray], batch_size: int) -> IdentityReference:
    """Centroids of each side's embeddings (computed from faces that are not held out)."""
    centroids = {side: metrics.centroid(embed(embedder, f, batch_size)) for side, f in faces.items()}
    return IdentityReference(centroids, {side: len(f) for side, f in faces.items()})


def identity_scores(embedder: Any, reference: IdentityReference, *, source: str, swapped: np.ndarray,
                    real_source: np.ndarray, real_target: np.ndarray | None, files: Sequence[str],
                    batch_size: int) -> dict[str, Any]:
    """Distances of swapped faces (source → target) to both identities, and real-face baselines.

    A swap transfers identity when its faces are closer to the target centroid than to the source's;
    the baselines show what "same person" (real target faces) and "other person" (real source faces)
    look like to this embedder.
    """
    target = OTHER[source]
    c_src, c_tgt = reference.centroids[source], reference.centroids[target]
    emb = embed(embedder, swapped, batch_size)
    to_tgt = embedder_distance(embedder, emb, c_tgt)
    to_src = embedder_distance(embedder, emb, c_src)
    cos_tgt = metrics.cosine_distance(emb, c_tgt)
    cos_src = metrics.cosine_distance(emb, c_src)
    real_src = embed(embedder, real_source, batch_size)
    baseline = {
        "real_source_to_source": float(embedder_distance(embedder, real_src, c_src).mean()),
        "real_source_to_target": float(embedder_distance(embedder, real_src, c_tgt).mean()),
    }
    if real_target is not None and len(real_target):
        real_tgt = embed(embedder, real_target, batch_size)
        baseline["real_target_to_target"] = float(embedder_distance(embedder, real_tgt, c_tgt).mean())
    return {
        "faces": len(emb),
        "distance_to_target": float(to_tgt.mean()),
        "distance_to_source": float(to_src.mean()),
        "cosine_to_target": float(cos_tgt.mean()),
        "cosine_to_source": float(cos_src.mean()),
        "closer_to_target": float(np.mean(to_tgt < to_src)),
        "baseline": baseline,
        "per_face": [
            {"file": f, "to_target": float(t), "to_source": float(s)}
            for f, t, s in zip(files, to_tgt, to_src, strict=True)
        ],
    }
