"""Convert a video with an exported model from Python (the seed's video-conversion notebook): the
[convert] table is built in code and run through fswap.api — detection, Kalman smoothing of boxes and
landmarks, the generator, histogram-matched colour, feathered blending and an H.264 MP4 with the source's
audio and provenance metadata.

    python examples/python-api/convert.py --model work/model/export --input clip.mp4 --layout side_by_side
    python examples/python-api/convert.py --tiny   # synthetic clip + an UNTRAINED tiny model (mechanics only)

With --tiny the model is freshly initialised (random weights), so the swapped face is noise: the run shows
the conversion path working, not a result. Train first (train.py) for a real model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import _tiny

from fswap import api
from fswap.examples import convert_pipeline, synthetic_video, untrained_model


def convert(model: Path, video: Path, out: Path, *, direction: str = "a_to_b", layout: str = "result",
            tracker: str = "kalman", color: str = "hist_match") -> dict[str, Any]:
    """Convert `video` with the exported `model`; the output goes to out/work/convert/."""
    data = convert_pipeline(model, video, direction=direction, layout=layout, tracker=tracker, color=color)
    (result,) = api.from_dict(data, base_dir=out).run("convert")
    return {**result.summary, "tracks": str(result.outputs["tracks"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="Exported model folder (workdir/model/export).")
    parser.add_argument("--input", type=Path, help="Video file, image folder or glob to convert.")
    parser.add_argument("--direction", default="a_to_b", choices=("a_to_b", "b_to_a"))
    parser.add_argument("--layout", default="result", choices=("result", "side_by_side", "triple"))
    _tiny.add_common_arguments(parser)
    args = parser.parse_args(argv)
    out = _tiny.output_folder(args, "convert")
    if _tiny.is_tiny(args):
        video = synthetic_video(out, "a").path
        model = untrained_model(out / "untrained-model")
        layout = "side_by_side"
    elif args.model is None or args.input is None:
        parser.error("give --model and --input, or --tiny")
    else:
        video, model, layout = args.input.resolve(), args.model.resolve(), args.layout
    print(json.dumps(convert(model, video, out, direction=args.direction, layout=layout), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
