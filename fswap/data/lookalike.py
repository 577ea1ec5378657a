"""Look-alike part-swap augmentation (reference §5.1): kNN look-alikes and seamless part pasting.

* `LookalikeIndex.build(faceset, features_fn, queries=...)` embeds every face once, averages feature maps
  over space, and answers `neighbours(i, k)`: the k faces of the indexed set closest (cosine) to query face i.
* `part_mask(landmarks, size, parts)` draws soft masks of eyes, brows, nose and mouth from 5 or 68 points.
* `paste_parts(source, target, mask)` pastes the masked region of an (already aligned) target onto the
  source with colour matching and a feathered or Poisson blend: no hard edges.
* `LookalikeAugmenter` is the per-sample callable the training data pipeline uses: with the configured
  probability it replaces a source face by the source with a look-alike's parts, and records which
  neighbours were used (`write_report`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.data.faceset import FaceRecord, FaceSet
from fswap.data.lookalike_config import LookalikeConfig
from fswap.errors import InputError, StageError
from fswap.evaluate.metrics import unit_rows

FeaturesFn = Callable[[np.ndarray], np.ndarray]
"""Batch of BGR uint8 faces (N, S, S, 3) → features (N, D) or feature maps (N, h, w, C)."""

# 68-point (iBUG-300W) index ranges of each part.
_PARTS_68: dict[str, tuple[range, ...]] = {
    "eyes": (range(36, 42), range(42, 48)),
    "brows": (range(17, 22), range(22, 27)),
    "nose": (range(27, 36),),
    "mouth": (range(48, 60),),
}


# -- features ------------------------------------------------------------------------------------------


def pool_features(features: np.ndarray) -> np.ndarray:
    """Average a feature map over its spatial axes: (N, h, w, C) → (N, C); (N, D) passes through."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 2:
        return x
    if x.ndim < 2:
        raise ValueError(f"features must be (N, D) or (N, h, w, C), received shape {x.shape}")
    return x.reshape(x.shape[0], -1, x.shape[-1]).mean(axis=1)


def thumbnail_features(size: int = 16) -> FeaturesFn:
    """Grey thumbnails, zero-mean: similar pose and lighting come out close (no identity knowledge)."""
    import cv2

    def features(faces: np.ndarray) -> np.ndarray:
        rows = []
        for face in faces:
            grey = cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_BGR2GRAY).astype(np.float64)
            small = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA).reshape(-1)
            rows.append(small - small.mean())
        return np.stack(rows)

    return features


def embedder_features(embedder: Any) -> FeaturesFn:
    """Identity embeddings from an `Embedder` component."""

    def features(faces: np.ndarray) -> np.ndarray:
        return np.asarray(embedder.embed(list(faces)), dtype=np.float64)

    return features


def encoder_features(model_folder: Path) -> FeaturesFn:
    """The trained shared encoder's output (averaged over space later) for faces resized to its resolution."""
    import cv2

    from fswap.model.io import load_network, read_metadata

    metadata = read_metadata(model_folder)
    encoder = load_network(model_folder, "encoder", metadata)
    resolution = int(encoder.inputs[0].shape[1])

    def features(faces: np.ndarray) -> np.ndarray:
        batch = np.stack([cv2.resize(np.ascontiguousarray(f), (resolution, resolution),
                                     interpolation=cv2.INTER_AREA) for f in faces])
        x = batch.astype(np.float32) / 127.5 - 1.0
        return np.asarray(encoder.predict_on_batch(x), dtype=np.float64)

    return features


def make_features_fn(
    config: LookalikeConfig, *, catalog: Any = None, model_folder: Path | None = None
) -> FeaturesFn:
    """The features function `config.features` asks for; builds the embedder or loads the encoder."""
    if config.features == "thumbnail":
        return thumbnail_features()
    if config.features == "encoder":
        if model_folder is None:
            raise StageError("look-alike features = \"encoder\" needs a trained model folder (model/export)")
        return encoder_features(model_folder)
    from fswap.builder import build

    choice = config.embedder
    if choice is None:
        from fswap.components import Kind
        from fswap.structure import Context, structure_component

        if catalog is None:
            raise StageError("look-alike features = \"embedder\" needs the plugin catalog to find one")
        section = "train.lookalike.embedder"
        use = catalog.default(Kind.EMBEDDER, where=f"[{section}]")
        choice = structure_component(Kind.EMBEDDER, {"use": use}, ctx=Context(catalog=catalog),
                                     section=section)
    from fswap.frame_guard import Attributed

    embedder = Attributed(build(choice), choice, "while indexing faces for look-alike augmentation")
    return embedder_features(embedder)


# -- the index ------------------------------------------------------------------------------------------


def _embed_faceset(faceset: FaceSet, features_fn: FeaturesFn, batch_size: int, progress: bool) -> np.ndarray:
    from fswap.progress import tqdm

    rows: list[np.ndarray] = []
    records = faceset.records
    starts = range(0, len(records), batch_size)
    desc = f"look-alike features {faceset.path.name}"
    for start in tqdm(starts, desc=desc, unit="batch", disable=not progress, leave=False):
        batch = np.stack([faceset.load_image(r) for r in records[start:start + batch_size]])
        rows.append(pool_features(features_fn(batch)))
    return np.concatenate(rows, axis=0)


@attrs.frozen(eq=False)
class LookalikeIndex:
    """Unit-length pooled features of an indexed face set (and of the query faces), for cosine kNN."""

    files: tuple[str, ...]
    features: np.ndarray
    query_files: tuple[str, ...]
    query_features: np.ndarray
    same_set: bool

    @classmethod
    def build(cls, faceset: FaceSet, features_fn: FeaturesFn, *, queries: FaceSet | None = None,
              batch_size: int = 16, progress: bool = False) -> LookalikeIndex:
        """Index `faceset`; neighbours are asked for faces of `queries` (default: the indexed set itself,
        in which case a face is never its own neighbour). Each face is embedded exactly once."""
        if len(faceset) == 0:
            raise InputError(f"{faceset.path}: face set is empty; nothing to find look-alikes in")
        feats = unit_rows(_embed_faceset(faceset, features_fn, batch_size, progress))
        if queries is None or queries.path == faceset.path:
            files = tuple(r.file for r in faceset.records)
            return cls(files=files, features=feats, query_files=files, query_features=feats, same_set=True)
        qfeats = unit_rows(_embed_faceset(queries, features_fn, batch_size, progress))
        if qfeats.shape[1] != feats.shape[1]:
            raise ValueError(f"feature sizes differ: {qfeats.shape[1]} vs {feats.shape[1]}")
        return cls(files=tuple(r.file for r in faceset.records), features=feats,
                   query_files=tuple(r.file for r in queries.records), query_features=qfeats, same_set=False)

    def query(self, features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (M, k) and cosine distances (M, k) of the k indexed faces nearest to each feature row."""
        q = unit_rows(pool_features(np.atleast_2d(features)))
        dist = 1.0 - q @ self.features.T
        return self._topk(dist, k)

    def neighbours(self, i: int, k: int) -> list[tuple[int, float]]:
        """The k indexed faces nearest to query face `i`, nearest first, as (index, cosine distance)."""
        dist = 1.0 - self.query_features[i] @ self.features.T
        if self.same_set:
            dist = dist.copy()
            dist[i] = np.inf
        idx, d = self._topk(dist[None], k)
        return [(int(j), float(v)) for j, v in zip(idx[0], d[0], strict=True) if np.isfinite(v)]

    def table(self, k: int) -> list[list[tuple[int, float]]]:
        """`neighbours(i, k)` for every query face."""
        return [self.neighbours(i, k) for i in range(len(self.query_files))]

    @staticmethod
    def _topk(dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, dist.shape[1])
        part = np.argpartition(dist, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(dist, part, axis=1).argsort(axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1)
        return idx, np.take_along_axis(dist, idx, axis=1)


# -- part masks and pasting -------------------------------------------------------------------------------


def crop_landmarks(record: FaceRecord) -> np.ndarray:
    """A face record's alignment landmarks in crop pixels."""
    pts = np.hstack([record.landmarks, np.ones((len(record.landmarks), 1))])
    return pts @ np.asarray(record.matrix, dtype=np.float64).T


def _eye_distance(pts: np.ndarray) -> float:
    if len(pts) == 68:
        left, right = pts[36:42].mean(axis=0), pts[42:48].mean(axis=0)
    else:
        left, right = pts[0], pts[1]
    return float(max(np.linalg.norm(right - left), 1.0))


def _part_polygons(pts: np.ndarray, part: str) -> list[np.ndarray]:
    """Polygons (crop pixels) outlining one part, from 68 points (hulls) or 5 points (shaped ellipses)."""
    import cv2

    if len(pts) == 68:
        return [cv2.convexHull(pts[list(r)].astype(np.float32)).reshape(-1, 2) for r in _PARTS_68[part]]
    if len(pts) != 5:
        raise InputError(f"look-alike parts need 5 or 68 landmarks, received {len(pts)}")
    left_eye, right_eye, nose, mouth_l, mouth_r = pts
    d = _eye_distance(pts)
    axis = (right_eye - left_eye) / d
    angle = float(np.degrees(np.arctan2(axis[1], axis[0])))
    down = np.array([-axis[1], axis[0]])  # perpendicular, pointing from eyes towards the mouth

    def ellipse(centre: np.ndarray, half_w: float, half_h: float) -> np.ndarray:
        poly = cv2.ellipse2Poly((round(centre[0]), round(centre[1])),
                                (max(round(half_w), 1), max(round(half_h), 1)), round(angle),
                                0, 360, 10)
        return poly.astype(np.float64)

    if part == "eyes":
        return [ellipse(e, 0.3 * d, 0.17 * d) for e in (left_eye, right_eye)]
    if part == "brows":
        return [ellipse(e - 0.3 * d * down, 0.32 * d, 0.1 * d) for e in (left_eye, right_eye)]
    if part == "nose":
        eye_mid = (left_eye + right_eye) / 2
        length = float(np.dot(nose - eye_mid, down))
        centre = eye_mid + down * (0.6 * length) + axis * float(np.dot(nose - eye_mid, axis)) * 0.6
        return [ellipse(centre, 0.26 * d, max(0.55 * length, 0.2 * d))]
    mouth_c = (mouth_l + mouth_r) / 2
    width = float(np.linalg.norm(mouth_r - mouth_l))
    return [ellipse(mouth_c, 0.6 * width + 0.05 * d, 0.25 * d)]


def part_mask(landmarks: np.ndarray, size: int, parts: Sequence[str], *, grow: float = 0.12,
              feather: float = 0.1) -> np.ndarray:
    """Soft (size, size) float32 mask in [0, 1] of the given parts, grown and feathered relative to the
    eye distance so the paste fades out instead of ending in an edge."""
    import cv2

    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    d = _eye_distance(pts)
    hard = np.zeros((size, size), np.uint8)
    for part in parts:
        for poly in _part_polygons(pts, part):
            cv2.fillPoly(hard, [np.round(poly).astype(np.int32)], 255)
    radius = round(grow * d)
    if radius > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        hard = cv2.dilate(hard, kernel)
    sigma = max(feather * d, 0.5)
    soft = cv2.GaussianBlur(hard.astype(np.float32) / 255.0, (0, 0), sigmaX=sigma, sigmaY=sigma)
    return np.clip(soft, 0.0, 1.0)


def align_to(target: np.ndarray, target_pts: np.ndarray, source_pts: np.ndarray) -> np.ndarray:
    """Warp `target` with the similarity transform that best maps its landmarks onto the source's."""
    import cv2

    src = np.asarray(target_pts, np.float32)
    matrix, _ = cv2.estimateAffinePartial2D(src, np.asarray(source_pts, np.float32), method=cv2.LMEDS)
    if matrix is None:
        return target.copy()
    h, w = target.shape[:2]
    return cv2.warpAffine(target, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def match_colours(target: np.ndarray, source: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Shift the target's L*a*b* channels to the source's mean inside the mask and scale them towards its
    std (the scale is limited to 0.5–2 so the pasted part keeps its detail)."""
    import cv2

    w = np.asarray(mask, np.float64)[..., None]
    total = float(w.sum())
    if total < 1.0:
        return target.copy()
    t = cv2.cvtColor(target, cv2.COLOR_BGR2LAB).astype(np.float64)
    s = cv2.cvtColor(source, cv2.COLOR_BGR2LAB).astype(np.float64)
    t_mean = (t * w).sum(axis=(0, 1)) / total
    s_mean = (s * w).sum(axis=(0, 1)) / total
    t_std = np.sqrt(((t - t_mean) ** 2 * w).sum(axis=(0, 1)) / total) + 1e-6
    s_std = np.sqrt(((s - s_mean) ** 2 * w).sum(axis=(0, 1)) / total) + 1e-6
    ratio = np.clip(s_std / t_std, 0.5, 2.0)  # keep the target's detail even on a flat source
    out = (t - t_mean) * ratio + s_mean
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def paste_parts(source_img: np.ndarray, target_img: np.ndarray, part_mask: np.ndarray, *,
                method: str = "feather", colour_match: bool = True) -> np.ndarray:
    """Paste the region `part_mask` (soft, [0, 1]) of `target_img` onto `source_img` (both BGR uint8, same
    size, target already aligned to the source). Colours are matched to the source first; "feather" blends
    with the soft mask, "poisson" clones the gradients (cv2.seamlessClone) and then feathers the border."""
    import cv2

    if source_img.shape != target_img.shape:
        raise ValueError(f"source and target must have the same shape, received {source_img.shape} and "
                         f"{target_img.shape}")
    mask = np.clip(np.asarray(part_mask, np.float32), 0.0, 1.0)
    if float(mask.max()) <= 0.0:
        return source_img.copy()
    target = match_colours(target_img, source_img, mask) if colour_match else target_img
    if method == "poisson":
        binary = (mask > 0.05).astype(np.uint8) * 255
        ys, xs = np.nonzero(binary)
        h, w = binary.shape
        if xs.min() > 0 and xs.max() < w - 1 and ys.min() > 0 and ys.max() < h - 1:
            x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
            centre = ((int(x0) + int(x1) + 1) // 2, (int(y0) + int(y1) + 1) // 2)
            target = cv2.seamlessClone(target, source_img, binary, centre, cv2.NORMAL_CLONE)
        # a region touching the border cannot be cloned; fall back to the colour-matched feather blend
    elif method != "feather":
        raise ValueError(f"method must be 'feather' or 'poisson', received {method!r}")
    a = mask[..., None]
    out = a * target.astype(np.float32) + (1.0 - a) * source_img.astype(np.float32)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


# -- the per-sample augmenter -----------------------------------------------------------------------------


class LookalikeAugmenter:
    """Per-sample look-alike augmentation for one source identity, thread-safe.

    Call `augmenter(i, image, rng)` with the index of the face in the source face set, its crop (any square
    size; landmarks are rescaled) and a numpy Generator; returns the image unchanged or with a look-alike's
    parts, with probability `config.probability`.
    """

    def __init__(
        self, config: LookalikeConfig, source: FaceSet, target: FaceSet, index: LookalikeIndex
    ) -> None:
        if index.query_files != tuple(r.file for r in source.records):
            raise ValueError("the index was not built with this source face set as queries")
        self.config = config
        self.source = source
        self.target = target
        self.index = index
        self._table = index.table(config.k)
        self._used: Counter[tuple[int, int]] = Counter()
        self._lock = threading.Lock()
        self._cache: dict[int, np.ndarray] = {}

    @classmethod
    def build(cls, config: LookalikeConfig, source: FaceSet, target: FaceSet, features_fn: FeaturesFn, *,
              progress: bool = False) -> LookalikeAugmenter:
        """Index the target set once and find each source face's look-alikes."""
        index = LookalikeIndex.build(target, features_fn, queries=source, progress=progress)
        return cls(config, source, target, index)

    def _target_image(self, j: int) -> np.ndarray:
        with self._lock:
            cached = self._cache.get(j)
        if cached is not None:
            return cached
        image = self.target.load_image(self.target.records[j])
        with self._lock:
            if len(self._cache) >= 256:
                self._cache.pop(next(iter(self._cache)))
            self._cache[j] = image
        return image

    def swap(self, i: int, image: np.ndarray, j: int, parts: Sequence[str]) -> np.ndarray:
        """The source face `i` (as `image`) with `parts` of target face `j` pasted in."""
        import cv2

        size = image.shape[0]
        src_pts = crop_landmarks(self.source.records[i]) * (size / self.source.size)
        tgt_pts = crop_landmarks(self.target.records[j]) * (size / self.target.size)
        target = self._target_image(j)
        if target.shape[:2] != image.shape[:2]:
            target = cv2.resize(target, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)
        aligned = align_to(target, tgt_pts, src_pts)
        mask = part_mask(src_pts, size, parts, grow=self.config.grow, feather=self.config.feather)
        return paste_parts(image, aligned, mask, method=self.config.blend)

    def __call__(self, i: int, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if not self.config.enabled or rng.random() >= self.config.probability:
            return image
        choices = self._table[i]
        if not choices:
            return image
        j = choices[int(rng.integers(len(choices)))][0]
        parts = self.config.parts if self.config.choose == "all" else (
            self.config.parts[int(rng.integers(len(self.config.parts)))],)
        out = self.swap(i, image, j, parts)
        with self._lock:
            self._used[(i, j)] += 1
        return out

    def report(self) -> dict[str, Any]:
        """Every source face's look-alikes (file, cosine distance) and how often each was pasted."""
        with self._lock:
            used = dict(self._used)
        faces = []
        for i, row in enumerate(self._table):
            faces.append({
                "source": self.index.query_files[i],
                "neighbours": [
                    {"file": self.index.files[j], "distance": round(d, 6), "used": used.get((i, j), 0)}
                    for j, d in row
                ],
            })
        return {
            "source_set": str(self.source.path),
            "target_set": str(self.target.path),
            "features": self.config.features,
            "k": self.config.k,
            "parts": list(self.config.parts),
            "samples_augmented": sum(used.values()),
            "faces": faces,
        }

    def write_report(self, path: Path) -> None:
        """Write `report()` as JSON atomically (e.g. model/logs/lookalike_a.json)."""
        from fswap.files import write_json_atomic

        write_json_atomic(path, self.report())


def build_augmenters(config: LookalikeConfig, sets: dict[str, FaceSet], features_fn: FeaturesFn, *,
                     progress: bool = False) -> dict[str, LookalikeAugmenter]:
    """One augmenter per side of a two-identity training run ({"a": …, "b": …}): side a borrows parts
    from its look-alikes in b and vice versa. Each face set is embedded exactly once."""
    if set(sets) != {"a", "b"}:
        raise ValueError(f"need face sets 'a' and 'b', received {sorted(sets)}")
    feats = {side: unit_rows(_embed_faceset(fs, features_fn, 16, progress)) for side, fs in sets.items()}
    files = {side: tuple(r.file for r in fs.records) for side, fs in sets.items()}
    out = {}
    for side, other in (("a", "b"), ("b", "a")):
        index = LookalikeIndex(files=files[other], features=feats[other], query_files=files[side],
                               query_features=feats[side], same_set=False)
        out[side] = LookalikeAugmenter(config, sets[side], sets[other], index)
    return out


def prepare_lookalike(config: LookalikeConfig, faceset_paths: dict[str, Path | FaceSet], *,
                      catalog: Any = None, model_folder: Path | None = None,
                      progress: bool = False) -> dict[str, LookalikeAugmenter] | None:
    """Everything the train stage needs in one call: None when the augmentation is off, else the two
    augmenters (features from `config.features`; the embedder resolved from `catalog`, the encoder from
    `model_folder`). Face sets are given as folders or as FaceSets (the training faces only, so no held-out
    face lends its parts)."""
    if not config.enabled or config.probability <= 0.0:
        return None
    sets = {side: s if isinstance(s, FaceSet) else FaceSet.open(s) for side, s in faceset_paths.items()}
    features_fn = make_features_fn(config, catalog=catalog, model_folder=model_folder)
    return build_augmenters(config, sets, features_fn, progress=progress)
