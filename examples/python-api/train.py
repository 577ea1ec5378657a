"""Train a face-swap model from Python (the seed's training notebook): the pipeline is built in code as
nested dicts — the same tables a pipeline.toml has — validated by fswap, and the extract and train stages
are run through fswap.api. Training resumes where it stopped when run again with the same workdir.

    python examples/python-api/train.py --a person_a.mp4 --b person_b.mp4 --workdir work --iterations 20000
    python examples/python-api/train.py --tiny      # synthetic videos, 2 iterations of a tiny model

Outputs (in the workdir): faces/a, faces/b (face sets), model/previews, model/history.csv,
model/export (what convert loads). See docs/training.md for reading the losses and previews.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import _tiny

from fswap import api
from fswap.examples import synthetic_videos, tiny_train_settings, training_pipeline


def train(data: dict[str, Any], base_dir: Path, *, fresh: bool = False) -> dict[str, Any]:
    """Validate the pipeline, extract both face sets and train; returns the train stage's summary."""
    pipe = api.from_dict(data, base_dir=base_dir)
    extracted, trained = pipe.run("extract", "train", resume=not fresh)
    return {
        "faces": {side: extracted.summary[f"{side}.faces_in_set"] for side in ("a", "b")},
        **trained.summary,
        "previews": str(trained.outputs["previews"]),
        "export": str(trained.outputs["export"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, help="Video/images of side a (the face that is replaced).")
    parser.add_argument("--b", type=Path, help="Video/images of side b (the face that is put in).")
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--resolution", type=int, default=64, choices=(64, 128, 256))
    parser.add_argument("--capacity", default="lite", choices=("lite", "standard"))
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--fresh", action="store_true", help="Discard earlier face sets and checkpoints.")
    _tiny.add_common_arguments(parser)
    args = parser.parse_args(argv)
    out = _tiny.output_folder(args, "train")
    if _tiny.is_tiny(args):
        a, b = synthetic_videos(out)
        data = training_pipeline(a, b, iterations=2, resolution=64, capacity="lite", batch_size=2)
        data["train"].update(tiny_train_settings())
    elif args.a is None or args.b is None:
        parser.error("give --a and --b, or --tiny")
    else:
        data = training_pipeline(args.a.resolve(), args.b.resolve(), iterations=args.iterations,
                                 resolution=args.resolution, capacity=args.capacity,
                                 batch_size=args.batch_size)
    print(json.dumps(train(data, out, fresh=args.fresh), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
