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

from fswap.errors import InputError
from fswap.examples import eye_masks, read_images


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
        try:
            images = read_images(args.images)
        except InputError as exc:
            parser.error(str(exc))
    out = _tiny.output_folder(args, "eye-masks")
    rows = eye_masks(images, out)
    print(json.dumps({"out": str(out), "faces": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
