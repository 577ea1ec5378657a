"""Everything in one script (the seed's all-in-one notebook): extract both face sets, train, convert a
video and evaluate the result — one pipeline built in code and run through fswap.api. The same pipeline
as a file is `fswap run pipeline.toml`; this script prints that TOML-equivalent as JSON with --show.

    python examples/python-api/all_in_one.py --a a.mp4 --b b.mp4 --iterations 20000 --workdir run1
    python examples/python-api/all_in_one.py --tiny    # synthetic clips, untrained-quality output, ~1 minute
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import _tiny

from fswap import api
from fswap.examples import full_pipeline, synthetic_videos, tiny_train_settings


def run_all(data: dict[str, Any], base_dir: Path, *, progress: bool = True) -> dict[str, Any]:
    """Run every stage in order; returns each stage's summary and output paths."""
    pipe = api.from_dict(data, base_dir=base_dir)
    report = {}
    for result in pipe.run(progress=progress):
        report[result.stage] = {**result.summary,
                                "outputs": {k: str(v) for k, v in result.outputs.items()}}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, help="Video/images of side a (replaced; also converted).")
    parser.add_argument("--b", type=Path, help="Video/images of side b (put in).")
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--resolution", type=int, default=64, choices=(64, 128, 256))
    parser.add_argument("--show", action="store_true", help="Print the pipeline tables and exit.")
    _tiny.add_common_arguments(parser)
    args = parser.parse_args(argv)
    out = _tiny.output_folder(args, "all-in-one")
    if _tiny.is_tiny(args):
        a, b = synthetic_videos(out)
        data = full_pipeline(a, b, iterations=2)
        data["train"].update(tiny_train_settings())
    elif args.a is None or args.b is None:
        parser.error("give --a and --b, or --tiny")
    else:
        data = full_pipeline(args.a.resolve(), args.b.resolve(), iterations=args.iterations,
                             resolution=args.resolution)
    if args.show:
        print(json.dumps(data, indent=1))
        return 0
    print(json.dumps(run_all(data, out, progress=not _tiny.is_tiny(args)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
