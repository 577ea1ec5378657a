"""The steps of the original faceswap-GAN notebooks as functions, on top of `fswap.api`.

The Python-API example scripts (examples/python-api/) and the notebooks (examples/notebooks/) share them:

* tiny synthetic inputs (`synthetic_video`, `synthetic_videos`, `tiny_train_settings`, `untrained_model`)
  so every example runs in seconds on short clips of two public-domain portraits (fswap.samples);
* the steps: `detect_and_align` (MTCNN + 5-point alignment of a video), `eye_masks` (binary eye masks two
  ways), and the pipeline tables `training_pipeline`, `convert_pipeline`, `full_pipeline`;
* notebook display helpers: `image_row`, `show`, `show_video`, `watching_training` (IPython is imported
  only when they display).

Importing this module imports neither TensorFlow nor OpenCV; the functions import what they use.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fswap import api
from fswap.errors import InputError

if TYPE_CHECKING:
    from fswap.samples import SyntheticVideo

__all__ = [
    "TINY_FRAMES", "TINY_SIZE", "binary", "convert_pipeline", "detect_and_align", "eye_masks",
    "full_pipeline", "image_row", "read_images", "show", "show_video", "synthetic_video", "synthetic_videos",
    "tiny_train_settings", "training_pipeline", "untrained_model", "watching_training",
]

TINY_FRAMES = 6
TINY_SIZE = (320, 180)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
_SIDES = {"a": ("astronaut", 0), "b": ("grace_hopper", 1)}

# --------------------------------------------------------------------------------------------------
# tiny inputs
# --------------------------------------------------------------------------------------------------


def synthetic_video(folder: Path | str, side: str, frames: int = TINY_FRAMES) -> SyntheticVideo:
    """A short video (folder/inputs/<side>.mp4) of side a (the astronaut) or b (Grace Hopper) moving over a
    background; the returned object knows its path and the true landmarks of every frame."""
    from fswap.samples import make_face_video

    if side not in _SIDES:
        raise InputError(f"side must be 'a' or 'b', received {side!r}")
    face, seed = _SIDES[side]
    path = Path(folder) / "inputs" / f"{side}.mp4"
    return make_face_video(path, face=face, frames=frames, size=TINY_SIZE, seed=seed)


def synthetic_videos(folder: Path | str, frames: int = TINY_FRAMES) -> tuple[Path, Path]:
    """Paths of two short videos, side a and side b."""
    return synthetic_video(folder, "a", frames).path, synthetic_video(folder, "b", frames).path


def tiny_train_settings(iterations: int = 2) -> dict[str, Any]:
    """[train] for a run of seconds: `iterations` of a 64×64 lite model with 1/8 of the widths and no
    attention block, with a checkpoint and a preview at the end (it replaces the whole [train.model])."""
    return {
        "iterations": iterations, "checkpoint_every": iterations, "preview_every": iterations,
        "batch_size": 2, "log_every": 1,
        "model": {"resolution": 64, "capacity": "lite", "width_divisor": 8, "attention": {"use": "none"}},
    }


def untrained_model(folder: Path | str) -> Path:
    """Export a freshly initialised model of `tiny_train_settings` (random weights): converting with it
    shows the conversion path working, not a result."""
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    config = parse_model_config(tiny_train_settings()["model"], catalog=api.catalog())
    return save_networks(build_networks(config), Path(folder), config)


# --------------------------------------------------------------------------------------------------
# the notebooks' steps
# --------------------------------------------------------------------------------------------------


def detect_and_align(video: Path | str, out: Path | str, *, every_n: int = 1, size: int = 256,
                     min_face_size: int = 20, batch: int = 8) -> list[dict[str, Any]]:
    """Detect every face of every n-th frame with MTCNN, align it on its 5 points and save the crop as
    out/faces/<frame>_<k>.png; writes out/faces.json and returns one record per face (file, frame, box,
    confidence, landmarks, matrix)."""
    import cv2

    from fswap.video.reader import open_frames

    out = Path(out)
    detector = api.build("detector", "mtcnn", min_face_size=min_face_size)
    aligner = api.build("aligner", "umeyama5", size=size)
    crops = out / "faces"
    crops.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    pending: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        found = detector.detect([frame for _, frame in pending])
        for (index, frame), detections in zip(pending, found, strict=True):
            for k, detection in enumerate(detections):
                face = aligner.align(frame, detection)
                name = f"{index:06d}_{k}.png"
                cv2.imwrite(str(crops / name), face.image)
                records.append({"file": name, "frame": index, **detection.to_json(),
                                "matrix": np.round(face.matrix, 6).tolist()})
        pending.clear()

    for index, frame in open_frames(video, every_n=every_n):
        pending.append((index, frame))
        if len(pending) == batch:
            flush()
    if pending:
        flush()
    (out / "faces.json").write_text(json.dumps(records, indent=1), encoding="utf-8")
    return records


def binary(mask: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """A float mask in [0, 1] as a 0/255 uint8 image."""
    return np.where(np.asarray(mask) > threshold, 255, 0).astype(np.uint8)


def eye_masks(images: dict[str, np.ndarray], out: Path | str, *, size: int = 256) -> list[dict[str, Any]]:
    """Detect the faces of each image, align them and write the crop and two binary eye masks:

    out/faces/<name>_<k>.png, out/masks/eyes5/<name>_<k>.png (rectangles around the 5 MTCNN eye points,
    `eyes5`) and out/masks/eyes68/<name>_<k>.png (hulls of dlib's 68-point eyes, `parts68`); returns per face
    the coverage of each mask and their intersection over union."""
    import cv2

    out = Path(out)
    detector = api.build("detector", "mtcnn")
    aligner5 = api.build("aligner", "umeyama5", size=size)
    aligner68 = api.build("aligner", "dlib68", size=size)  # same crop: placed by the 5 detector points
    from5 = api.build("mask_generator", "eyes5")
    from68 = api.build("mask_generator", "parts68", parts=["eyes"])
    for sub in ("faces", "masks/eyes5", "masks/eyes68"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rows = []
    names = list(images)
    for name, detections in zip(names, detector.detect([images[n] for n in names]), strict=True):
        for k, detection in enumerate(detections):
            face = aligner5.align(images[name], detection)  # keeps MTCNN's 5 points
            face68 = aligner68.align(images[name], detection)  # adds dlib's 68 points, same matrix
            m5, m68 = binary(from5.generate(face)), binary(from68.generate(face68))
            stem = f"{name}_{k}"
            cv2.imwrite(str(out / "faces" / f"{stem}.png"), face.image)
            cv2.imwrite(str(out / "masks" / "eyes5" / f"{stem}.png"), m5)
            cv2.imwrite(str(out / "masks" / "eyes68" / f"{stem}.png"), m68)
            both, either = np.count_nonzero(m5 & m68), np.count_nonzero(m5 | m68)
            rows.append({
                "face": stem,
                "eyes5_coverage": round(np.count_nonzero(m5) / m5.size, 4),
                "eyes68_coverage": round(np.count_nonzero(m68) / m68.size, 4),
                "iou": round(both / either, 3) if either else 0.0,
            })
    return rows


def read_images(paths: Iterable[Path | str]) -> dict[str, np.ndarray]:
    """Images given as files or folders of files, by file stem (BGR uint8); InputError names one that
    cannot be read or a list that holds no image."""
    import cv2

    paths = [Path(p) for p in paths]
    files = [p for arg in paths for p in (sorted(arg.iterdir()) if arg.is_dir() else [arg])
             if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise InputError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in {[str(p) for p in paths]}")
    images = {}
    for file in files:
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"{file}: cannot be read as an image")
        images[file.stem] = image
    return images


def training_pipeline(a: Path | str, b: Path | str, *, iterations: int, resolution: int = 64,
                      capacity: str = "lite", batch_size: int = 8) -> dict[str, Any]:
    """The [extract] and [train] tables: MTCNN + 5-point alignment + eye masks, then the reference losses."""
    return {
        "workdir": "work",
        "seed": 0,
        "extract": {
            "a": {"input": str(a)},
            "b": {"input": str(b)},
            "detector": {"use": "mtcnn"},
            "aligner": {"use": "umeyama5"},
            "masks": {"eyes5": {}},
        },
        "train": {
            "iterations": iterations,
            "batch_size": batch_size,
            "model": {
                "resolution": resolution,
                "capacity": capacity,
                "normalization": {"use": "hybrid" if capacity == "lite" else "per_sample"},
                "attention": {"use": "self_attention"},
                "upsampling": {"use": "nearest" if capacity == "lite" else "pixel_shuffle"},
            },
        },
    }


def convert_pipeline(model: Path | str, video: Path | str, *, direction: str = "a_to_b",
                     layout: str = "result", tracker: str = "kalman",
                     color: str = "hist_match") -> dict[str, Any]:
    """The [convert] table: convert `video` with the exported `model` into workdir/convert/."""
    return {
        "workdir": "work",
        "convert": {
            "input": str(video),
            "model": str(model),
            "direction": direction,
            "layout": layout,
            "tracker": {"use": tracker},
            "color": {"use": color},
        },
    }


def full_pipeline(a: Path | str, b: Path | str, *, iterations: int, resolution: int = 64) -> dict[str, Any]:
    """All four stages: extract → train → convert side a's video a→b (side by side) → evaluate."""
    return {
        "workdir": "work",
        "seed": 0,
        "extract": {"a": {"input": str(a)}, "b": {"input": str(b)}, "masks": {"eyes5": {}}},
        "train": {"iterations": iterations, "batch_size": 8,
                  "model": {"resolution": resolution, "capacity": "lite"}},
        "convert": {"input": str(a), "direction": "a_to_b", "layout": "side_by_side",
                    "tracker": {"use": "kalman"}},
        "evaluate": {},
    }


# --------------------------------------------------------------------------------------------------
# showing images in a notebook
# --------------------------------------------------------------------------------------------------


def _as_bgr(image: np.ndarray | Path | str) -> np.ndarray:
    """A BGR uint8 image from a path, a BGR image, a grey image or a float mask in [0, 1]."""
    import cv2

    if isinstance(image, (str, Path)):
        loaded = cv2.imread(str(image), cv2.IMREAD_COLOR)
        if loaded is None:
            raise InputError(f"{image}: cannot be read as an image")
        return loaded
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(np.rint(array.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    if array.ndim == 2:
        array = cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    if array.ndim != 3 or array.shape[2] != 3:
        raise InputError(f"an image must be (H, W), (H, W, 3) or a path, received shape {array.shape}")
    return array


def image_row(images: Sequence[np.ndarray | Path | str], *, height: int = 160, gap: int = 4) -> np.ndarray:
    """Images (BGR, grey, float masks or paths) scaled to one height and placed side by side on white."""
    import cv2

    if not images:
        raise InputError("image_row needs at least one image")
    scaled = []
    for image in images:
        bgr = _as_bgr(image)
        width = max(1, round(bgr.shape[1] * height / bgr.shape[0]))
        scaled.append(cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA))
    spacer = np.full((height, gap, 3), 255, np.uint8)
    parts = [part for image in scaled for part in (image, spacer)][:-1]
    return np.concatenate(parts, axis=1)


def show(*images: np.ndarray | Path | str, height: int = 160) -> None:
    """Display images in a row in the notebook (as one PNG)."""
    import cv2
    from IPython.display import Image, display

    ok, png = cv2.imencode(".png", image_row(images, height=height))
    if not ok:
        raise InputError("the images could not be encoded as PNG")
    display(Image(data=png.tobytes(), format="png"))


def show_video(path: Path | str, *, embed_limit_mb: float = 20.0) -> None:
    """Display a video in the notebook: embedded when it is small, else a player linking to the file."""
    from IPython.display import Video, display

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such video")
    if path.stat().st_size <= embed_limit_mb * 1e6:
        display(Video(str(path), embed=True, mimetype="video/mp4", html_attributes="controls loop"))
    else:  # a link the notebook page can follow: relative to the notebook's folder (the kernel's cwd)
        display(Video(os.path.relpath(path), mimetype="video/mp4", html_attributes="controls loop"))


def _last_history_line(history: Path) -> str:
    """'iteration N · images/s · a/g_total · b/g_total' from the last row of history.csv, or ''."""
    if not history.is_file():
        return ""
    with history.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return ""
    row = rows[-1]
    parts = [f"iteration {row.get('iteration', '?')}", f"{row.get('images_per_s', '?')} images/s"]
    parts += [f"{key} {float(row[key]):.4f}" for key in ("a/g_total", "b/g_total") if row.get(key)]
    return " · ".join(parts)


@contextlib.contextmanager
def watching_training(model_folder: Path | str, *, every_s: float = 15.0) -> Iterator[None]:
    """Show training as it runs: the newest preview grid (model/previews/latest.png) and the last line of
    model/history.csv, refreshed every `every_s` seconds by a background thread while the block runs, and
    once more when it ends.

    Run the training itself inside the block, in the notebook's main thread: then the kernel's interrupt
    button is the CLI's Ctrl-C, a clean stop with a checkpoint, and running the cell again resumes.
    """
    from IPython.display import Image, Markdown, display

    model = Path(model_folder)
    preview, history = model / "previews" / "latest.png", model / "history.csv"
    text = display(Markdown("*waiting for the first log line …*"), display_id=True)
    image = display(Markdown("*waiting for the first preview …*"), display_id=True)
    seen: list[int | None] = [None]

    def refresh() -> None:
        line = _last_history_line(history)
        if line:
            text.update(Markdown(line))
        if preview.is_file() and preview.stat().st_mtime_ns != seen[0]:
            seen[0] = preview.stat().st_mtime_ns
            image.update(Image(data=preview.read_bytes(), format="png"))  # written atomically by the trainer

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            with contextlib.suppress(OSError, ValueError):  # a file replaced while it was read: next time
                refresh()

    thread = threading.Thread(target=loop, name="fswap-watch-training", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        refresh()
