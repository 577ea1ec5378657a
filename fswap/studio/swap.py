"""A swap preview of one frame: `python -m fswap.studio.swap PIPELINE FRAME DIRECTION OUT.png`.

Run by the studio in a subprocess (it imports TensorFlow; the studio's own process never does). It builds
the converter from the pipeline's [convert] table with the convert stage's own pieces (the exported
model's generator, detector, aligner, tracker, colour, blender, condition maps) and converts the single
frame in the "triple" layout: source | swap | mask heat-map, written as a PNG. Errors print one line
(`fswap: error: …`) and exit 2, like the CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import attrs

from fswap.errors import FswapError, InputError, StageError

DIRECTIONS = ("a_to_b", "b_to_a")


def _converter(pipe: Any, config: Any, model_dir: Path) -> Any:
    """The convert stage's converter, with the configured detector guarded as the stage guards it."""
    from fswap.builder import build
    from fswap.frame_guard import Activity, FrameGuard, GuardedDetector
    from fswap.stages.convert import make_converter

    activity = Activity(str(config.input))
    guard = FrameGuard("convert", config.on_frame_error, str(config.input))
    detector = GuardedDetector(build(config.detector), config.detector, guard)
    return make_converter(config, pipe.catalog, model_dir, detector, activity)


def preview(pipeline: Path, frame: int, direction: str, out: Path) -> Path:
    """Write source | swap | mask of `frame` of the [convert] input to `out` (PNG)."""
    import cv2

    from fswap import api
    from fswap.video.reader import open_frames
    from fswap.weights import resolving_weights

    if direction not in DIRECTIONS:
        raise FswapError(f"direction {direction!r}; valid: {', '.join(DIRECTIONS)}")
    pipe = api.load(pipeline)
    config = pipe.stage_config("convert")
    if config is None:
        raise StageError(f"{pipeline.name}: no [convert] section; the swap preview converts a frame of its "
                         "input")
    config = attrs.evolve(config, direction=direction, layout="triple", batch_frames=1)
    model_dir = config.model or pipe.workdir.model / "export"
    if not (model_dir / "model.json").is_file():
        raise InputError(f"{model_dir}: no exported model yet; train first (a checkpoint is exported when "
                         "training stops or finishes)")
    total = open_frames(config.input).selected
    if not 0 <= frame < total:
        raise InputError(f"frame {frame} is out of range: {config.input.name} has frames 0 to {total - 1}")
    source = open_frames(config.input, start=frame, stop=frame + 1)
    with resolving_weights(pipe.pm):
        converter = _converter(pipe, config, model_dir)
        frames = list(converter.run(iter(source)))
    if not frames:
        raise InputError(f"frame {frame} of {config.input.name} could not be read")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    if not cv2.imwrite(str(tmp), frames[0]):
        raise StageError(f"{out}: cannot write the preview")
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry of the preview subprocess."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 4:
        print("usage: python -m fswap.studio.swap PIPELINE FRAME DIRECTION OUT.png", file=sys.stderr)
        return 2
    try:
        frame = int(args[1])
    except ValueError:
        print(f"fswap: error: frame must be a whole number, received {args[1]!r}", file=sys.stderr)
        return 2
    try:
        preview(Path(args[0]), frame, args[2], Path(args[3]))
    except FswapError as exc:
        print(f"fswap: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
