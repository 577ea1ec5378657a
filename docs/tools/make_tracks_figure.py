"""Make the convert guide's contact-sheet figure: `fswap tracks` on a made-to-order two-shot clip.

The clip (fswap.samples_scenes.hard_cut) shows the two public-domain portraits in two shots with a hard
cut between them; in the second shot they have changed places. Pass 1 runs with MTCNN, the dlib embedder
and the astronaut photo as the reference, as `fswap tracks` would; no model is needed.

    python docs/tools/make_tracks_figure.py                    # writes docs/images/tracks-contact-sheet.png
    python docs/tools/make_tracks_figure.py --workdir /tmp/w   # keep the clip and tracks.json somewhere else

The sheet is stored as a 128-colour palette PNG to keep the repository small.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[2]
FIGURE = REPO / "docs" / "images" / "tracks-contact-sheet.png"


def main() -> None:
    from click.testing import CliRunner

    from fswap import samples_scenes as scenes
    from fswap.cli import cli
    from fswap.samples import public_domain_face

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None, help="Folder for the clip and the run.")
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="fswap-tracks-"))
    root.mkdir(parents=True, exist_ok=True)
    scenes.hard_cut(12, cut=6).write_images(root / "clip")
    cv2.imwrite(str(root / "astronaut.png"), public_domain_face("astronaut"))
    toml = root / "pipeline.toml"
    toml.write_text('workdir = "work"\n[convert]\ninput = "clip"\nreference = "astronaut.png"\n'
                    '[convert.embedder]\nuse = "dlib_resnet"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["tracks", str(toml), "--no-progress"], catch_exceptions=False)
    print(result.output, end="")
    if result.exit_code != 0:
        raise SystemExit(result.exit_code)
    from PIL import Image

    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    sheet = Image.open(root / "work" / "convert" / "tracks.png").convert("RGB")
    sheet.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(FIGURE, optimize=True)  # a small PNG
    print(f"wrote {FIGURE} ({FIGURE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
