"""Which faces of a face set are held out for evaluation.

The train stage may record the faces it kept out of training in `model/holdout.json` (or next to the
exported networks, `model/export/holdout.json`)
(`{"every": 10, "a": [file, …], "b": [file, …]}`); when it did, those are used and the report can say the
model never saw them. Otherwise a deterministic split is used (every n-th face in record order) and the
report says that training may have seen these faces.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs

from fswap.data.faceset import FaceSet
from fswap.errors import InputError

HOLDOUT_FILE = "holdout.json"


def every_nth(count: int, every: int, offset: int = 0) -> list[int]:
    """Indices `offset, offset + every, …` below `count` (the deterministic evaluation split)."""
    if every < 1:
        raise ValueError(f"every must be ≥ 1, received {every}")
    return list(range(offset % every, count, every))


def training_indices(count: int, every: int, offset: int = 0) -> list[int]:
    """The complement of `every_nth`: the faces a train stage that holds faces out would train on."""
    held = set(every_nth(count, every, offset))
    return [i for i in range(count) if i not in held]


@attrs.frozen
class Holdout:
    """Held-out faces of one side: record indices, and whether training is known not to have seen them."""

    indices: tuple[int, ...]
    recorded_by_training: bool
    description: str


def select_holdout(faceset: FaceSet, side: str, *, every: int, model_folder: Path | None) -> Holdout:
    """The held-out faces of `faceset` (side "a" or "b"): those the train stage recorded, if it did."""
    candidates = [model_folder / HOLDOUT_FILE, model_folder.parent / HOLDOUT_FILE] if model_folder else []
    record_file = next((c for c in candidates if c.is_file()), None)
    if record_file is not None:
        try:
            data = json.loads(record_file.read_text(encoding="utf-8"))
            files = [str(f) for f in data[side]]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{record_file}: unreadable held-out record ({type(exc).__name__}: {exc}); "
                             f"expected {{\"{side}\": [face file, …]}}") from exc
        position = {r.file: i for i, r in enumerate(faceset.records)}
        missing = [f for f in files if f not in position]
        if missing:
            raise InputError(f"{record_file}: held-out face '{missing[0]}' is not in the face set "
                             f"{faceset.path}")
        text = f"{len(files)} faces the train stage held out ({record_file.name}); training never saw them"
        return Holdout(tuple(position[f] for f in files), True, text)
    indices = tuple(every_nth(len(faceset), every))
    text = (f"every {every}th face in record order ({len(indices)} faces); the train stage recorded no "
            "held-out faces, so training saw these faces too and reconstruction scores are optimistic")
    return Holdout(indices, False, text)
