"""Detect and align the faces of a video with fswap's Python API (the seed's "MTCNN video face
detection and alignment" notebook): MTCNN boxes and 5 landmarks, a similarity transform of the 5 points
onto the reference template, and a 256×256 crop per face saved as PNG, plus a JSON record per face.

    python examples/python-api/detect_align_video.py VIDEO --out faces/   # your video
    python examples/python-api/detect_align_video.py --tiny               # synthetic video, seconds

For whole face sets (resumable, with masks, the format training reads) use the extract stage instead:
`fswap run pipeline.toml --stage extract`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import _tiny
import numpy as np

from fswap.examples import detect_and_align, synthetic_video


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path, nargs="?", help="Video file, image folder or glob.")
    parser.add_argument("--every", type=int, default=1, help="Use every Nth frame.")
    parser.add_argument("--size", type=int, default=256, help="Side of the aligned crops.")
    _tiny.add_common_arguments(parser)
    args = parser.parse_args(argv)
    out = _tiny.output_folder(args, "detect-align")
    truth = None
    if _tiny.is_tiny(args):
        truth = synthetic_video(out, "a")  # knows where the eyes really are in every frame
        video = truth.path
    elif args.video is None:
        parser.error("give a VIDEO, or --tiny for a synthetic one")
    else:
        video = args.video
    records = detect_and_align(video, out, every_n=args.every, size=args.size)
    summary: dict = {"video": str(video), "faces": len(records), "crops": str(out / "faces"),
                     "records": str(out / "faces.json")}
    if truth is not None and records:  # how far MTCNN's eye points are from where the eyes really are
        errors = [float(np.abs(np.asarray(r["landmarks"][:2]) - truth.true_landmarks(r["frame"])[:2]).max())
                  for r in records]
        summary["max_eye_error_px"] = round(max(errors), 2)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
