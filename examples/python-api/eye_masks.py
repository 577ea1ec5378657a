"""Binary eye masks of aligned faces with fswap's Python API (the seed's "generate binary masks"
notebook), made two ways and compared:

* from the 5 MTCNN points: the `eyes5` mask generator (a rectangle around each eye, reference ±h/15 × ±w/8);
* from 68 landmarks: the `dlib68` aligner (dlib's shape predictor, shipped in face-recognition-models) and
  the `parts68` mask generator restricted to the eyes (convex hulls of the eye points, dilated and blurred).

Both are thresholded at 0.5 into 0/255 PNGs, next to the aligned crop, in the layout the face sets use:

    <out>/faces/<name>.png   <out>/masks/eyes5/<name>.png   <out>/masks/eyes68/<name>.png

    python examples/python-api/eye_masks.py photo.jpg faces_folder/ --out masks/
    python examples/python-api/eye_masks.py --tiny        # the two public-domain portraits, seconds

The extract stage does this for whole face sets: `[extract.masks.eyes5]` / `[extract.masks.parts68]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import _tiny
import cv2
import numpy as np

from fswap import api

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def binary(mask: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """A float mask in [0, 1] as a 0/255 uint8 image."""
    return np.where(np.asarray(mask) > threshold, 255, 0).astype(np.uint8)


def eye_masks(images: dict[str, np.ndarray], out: Path, *, size: int = 256) -> list[dict]:
    """Detect the faces of each image, align them and write the crop and both binary eye masks."""
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


def read_images(paths: list[Path]) -> dict[str, np.ndarray]:
    """Images given as files or folders, by file stem (BGR uint8)."""
    files = [p for arg in paths for p in (sorted(arg.iterdir()) if arg.is_dir() else [arg])
             if p.suffix.lower() in IMAGE_SUFFIXES]
    images = {}
    for file in files:
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"eye_masks: cannot read {file}")
        images[file.stem] = image
    return images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", type=Path, nargs="*", help="Image files or folders of images.")
    _tiny.add_common_arguments(parser)
    args = parser.parse_args(argv)
    if _tiny.is_tiny(args):
        from fswap.samples import public_domain_face

        images = {name: public_domain_face(name) for name in ("astronaut", "grace_hopper")}
    elif not args.images:
        parser.error("give image files or folders, or --tiny for the public-domain portraits")
    else:
        images = read_images(args.images)
    out = _tiny.output_folder(args, "eye-masks")
    rows = eye_masks(images, out)
    print(json.dumps({"out": str(out), "faces": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
