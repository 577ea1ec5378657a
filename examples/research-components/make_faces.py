"""Write two tiny toy face sets (public-domain photos shipped with scikit-image and matplotlib) into
work/faces/a and work/faces/b, so `fswap run pipeline.toml --stage train` has something to train on."""

from __future__ import annotations

from pathlib import Path

from fswap.train.toys import make_toy_faceset


def main(root: Path = Path(__file__).resolve().parent) -> None:
    """Create the face sets under `root`/work/faces."""
    faces = root / "work" / "faces"
    make_toy_faceset(faces / "a", "astronaut", count=6, seed=1)
    make_toy_faceset(faces / "b", "grace_hopper", count=6, seed=2)
    print(f"face sets written to {faces}")


if __name__ == "__main__":
    main()
