"""Builds the demo's input videos from two public-domain portraits shipped inside Python packages.

Side a: NASA's astronaut portrait (scikit-image), side b: Grace Hopper (matplotlib sample data); each moves
with a smooth camera pan/zoom/rotation. Side a's video carries a sine-tone audio track so the convert stage
shows audio passthrough. Existing files are kept, so re-running is instant.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fswap.samples import make_face_video

INPUTS = Path(__file__).resolve().parent / "inputs"
VIDEOS = {
    "a.mp4": {"face": "astronaut", "seed": 1, "audio": True},
    "b.mp4": {"face": "grace_hopper", "seed": 2, "audio": False},
}


def main() -> int:
    INPUTS.mkdir(parents=True, exist_ok=True)
    for name, spec in VIDEOS.items():
        path = INPUTS / name
        if path.is_file() and path.stat().st_size > 0:
            print(f"demo input {path} exists")
            continue
        make_face_video(path, frames=90, size=(640, 360), fps=25.0, motion="mixed", **spec)
        print(f"demo input {path} written ({spec['face']}, 90 frames, 640x360)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
