"""Shared bits of the Python-API examples' command lines: the --tiny switch and the output folder.

`--tiny` (or the environment variable FSWAP_EXAMPLES_TINY=1) makes every example run in seconds on
short synthetic videos of two public-domain portraits, writing into a temporary folder unless --out is
given. The tiny inputs and settings themselves, and the steps the examples run, are in `fswap.examples`
(the notebooks in examples/notebooks use them too). The test suite runs each example this way.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

TINY_ENV = "FSWAP_EXAMPLES_TINY"


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """--tiny and --out, shared by every example."""
    parser.add_argument("--tiny", action="store_true",
                        help=f"Run in seconds on synthetic media (also: {TINY_ENV}=1).")
    parser.add_argument("--out", type=Path, default=None,
                        help="Output folder (default with --tiny: a new temporary folder).")


def is_tiny(args: argparse.Namespace) -> bool:
    return bool(args.tiny or os.environ.get(TINY_ENV, "") not in ("", "0"))


def output_folder(args: argparse.Namespace, name: str) -> Path:
    """Where an example writes: --out, else a fresh temporary folder."""
    folder = args.out if args.out is not None else Path(tempfile.mkdtemp(prefix=f"fswap-{name}-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()
