"""Which faces of a face set are held out for evaluation.

The train stage holds out every n-th face of each set (`[train] holdout`, the 10th, 20th, … in record order),
never trains on them and records them in `model/holdout.json` (a copy goes next to the exported networks,
`model/export/holdout.json`)::

    {"format": "fswap-holdout", "version": 1, "every": 10,
     "a": [held-out file, …], "b": [held-out file, …],
     "trained": {"a": [file trained on, …], "b": […]}}

`fswap evaluate` uses exactly those faces and says the model never saw them. Older records with only
`{"every": …, "a": […], "b": […]}` are still read. Without a record a deterministic split is used (every
n-th face in record order) and the report says that training may have seen these faces.

A resumed or extended run keeps the recorded split: the held-out faces stay held out (a recorded face that
vanished from its set is an error), faces added to a set since are split by the same rule among themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from fswap.data.faceset import FaceSet
from fswap.errors import ConfigError, InputError

HOLDOUT_FILE = "holdout.json"
RECORD_FORMAT = "fswap-holdout"
RECORD_VERSION = 1
SIDES = ("a", "b")


def every_nth(count: int, every: int, offset: int = 0) -> list[int]:
    """Indices `offset, offset + every, …` below `count` (the deterministic evaluation split)."""
    if every < 1:
        raise ValueError(f"every must be ≥ 1, received {every}")
    return list(range(offset % every, count, every))


def training_indices(count: int, every: int, offset: int = 0) -> list[int]:
    """The complement of `every_nth`: the faces a train stage that holds faces out would train on."""
    held = set(every_nth(count, every, offset))
    return [i for i in range(count) if i not in held]


def held_positions(count: int, every: int) -> list[int]:
    """Indices of the faces the train stage holds out of `count`: the every-th, 2·every-th, … face in
    record order (`every - 1`, `2·every - 1`, …), so a set smaller than `every` keeps all its faces."""
    if every < 1:
        raise ValueError(f"every must be ≥ 1, received {every}")
    return list(range(every - 1, count, every))


@attrs.frozen
class HoldoutRecord:
    """Which faces of each set the train stage kept out of training, and which it trained on (file names).

    `trained` is None for an older record that lists only the held-out faces."""

    every: int
    held: dict[str, tuple[str, ...]]
    trained: dict[str, tuple[str, ...]] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": RECORD_FORMAT, "version": RECORD_VERSION, "every": self.every}
        data.update({side: list(self.held[side]) for side in SIDES})
        if self.trained is not None:
            data["trained"] = {side: list(self.trained[side]) for side in SIDES}
        return data

    @classmethod
    def from_json(cls, data: Any, path: Path) -> HoldoutRecord:
        """A record from holdout.json's content; InputError naming `path` when it is malformed."""
        try:
            if not isinstance(data, dict):
                raise TypeError(f"expected an object, found {type(data).__name__}")
            if data.get("format", RECORD_FORMAT) != RECORD_FORMAT:
                raise ValueError(f"format must be '{RECORD_FORMAT}', found {data.get('format')!r}")
            every = data["every"]
            if isinstance(every, bool) or not isinstance(every, int) or every < 1:
                raise ValueError(f"every must be a whole number ≥ 1, found {every!r}")
            held = {side: _files(data[side], side) for side in SIDES}
            trained_data = data.get("trained")
            trained = None
            if trained_data is not None:
                trained = {side: _files(trained_data[side], f"trained.{side}") for side in SIDES}
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: unreadable held-out record ({type(exc).__name__}: {exc}); expected "
                             "{\"every\": n, \"a\": [face file, …], \"b\": [face file, …]}") from exc
        return cls(every=every, held=held, trained=trained)


def _files(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
        raise TypeError(f"{name} must be a list of face file names")
    return tuple(value)


def read_record(path: Path) -> HoldoutRecord | None:
    """The record at `path`, or None when there is none; InputError when it is unreadable."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: unreadable held-out record ({type(exc).__name__}: {exc})") from exc
    return HoldoutRecord.from_json(data, path)


def write_record(path: Path, record: HoldoutRecord) -> None:
    """Write the record atomically (temporary file and rename)."""
    from fswap.files import write_json_atomic

    write_json_atomic(path, record.to_json())


def plan_holdout(sets: dict[str, FaceSet], every: int) -> HoldoutRecord:
    """A new split of both face sets: every `every`-th face held out (see `held_positions`)."""
    held, trained = {}, {}
    for side in SIDES:
        files = [r.file for r in sets[side].records]
        picks = set(held_positions(len(files), every))
        held[side] = tuple(f for i, f in enumerate(files) if i in picks)
        trained[side] = tuple(f for i, f in enumerate(files) if i not in picks)
    return HoldoutRecord(every=every, held=held, trained=trained)


def extend_holdout(record: HoldoutRecord, sets: dict[str, FaceSet], where: str) -> tuple[HoldoutRecord,
                                                                                           dict[str, int]]:
    """The recorded split carried over to the face sets as they are now, and how many faces are new.

    Held-out faces stay held out and trained faces stay trained; a face neither list knows (added to the set
    since) is split by the same rule among the new faces. A held-out face missing from its set is an
    InputError: the evaluation could no longer use the faces the model never saw."""
    held, trained, added = {}, {}, {}
    for side in SIDES:
        files = [r.file for r in sets[side].records]
        present = set(files)
        gone = [f for f in record.held[side] if f not in present]
        if gone:
            raise InputError(
                f"{where}: held-out face '{gone[0]}' of face set {side} is no longer in {sets[side].path} "
                f"({len(gone)} of {len(record.held[side])} missing); restore it, or train afresh with --fresh"
            )
        known_trained = record.trained[side] if record.trained is not None else tuple(
            f for f in files if f not in set(record.held[side]))
        known = set(record.held[side]) | set(known_trained)
        new = [f for f in files if f not in known]
        picks = set(held_positions(len(new), record.every))
        held[side] = record.held[side] + tuple(f for i, f in enumerate(new) if i in picks)
        trained[side] = tuple(known_trained) + tuple(f for i, f in enumerate(new) if i not in picks)
        added[side] = len(new)
    return HoldoutRecord(every=record.every, held=held, trained=trained), added


def training_set(faceset: FaceSet, record: HoldoutRecord | None, side: str) -> FaceSet:
    """The face set without its held-out faces (all of it when there is no record)."""
    if record is None:
        return faceset
    held = set(record.held[side])
    return attrs.evolve(faceset, records=[r for r in faceset.records if r.file not in held])


def split_for_training(every: int, sets: dict[str, FaceSet], record_path: Path, *, resuming: bool,
                       where: str) -> tuple[HoldoutRecord | None, str]:
    """The split a train run uses (None: train on every face) and a line saying what was decided.

    A new run splits afresh (`every` = 0: no split). A resumed run keeps the split recorded at
    `record_path` (see `extend_holdout`); `every` must then match the record, because changing it would
    either train on faces evaluated as never seen or hold out faces already trained on. Checkpoints made
    without a record (holdout = 0, or an older fswap) resume without held-out faces."""
    if not resuming:
        if every == 0:
            return None, "holdout = 0: training on every face (evaluate's scores will be optimistic)"
        record = plan_holdout(sets, every)
        counts = ", ".join(f"{len(record.held[s])} of {len(sets[s])} faces of {s}" for s in SIDES)
        return record, f"holding out every {every}th face: {counts} (recorded in {record_path})"
    recorded = read_record(record_path)
    if recorded is None:
        if every == 0:
            return None, "holdout = 0: training on every face (evaluate's scores will be optimistic)"
        return None, (f"the checkpoints were trained on every face ({record_path} does not exist): resuming "
                      "without held-out faces, so evaluate's scores will be optimistic; train with --fresh "
                      "to hold faces out")
    if every != recorded.every:
        raise ConfigError(
            f"{where}: holdout = {every}, but {record_path} records that this model's training holds out "
            f"every {recorded.every}th face; set holdout = {recorded.every} to resume, or train afresh with "
            "--fresh"
        )
    record, added = extend_holdout(recorded, sets, where)
    counts = ", ".join(f"{len(record.held[s])} faces of {s}" for s in SIDES)
    text = f"keeping the recorded split ({counts} held out, {record_path})"
    if any(added.values()):
        text += "; new faces since: " + ", ".join(f"{added[s]} in {s}" for s in SIDES)
        text += f", every {record.every}th of them held out"
    return record, text


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
        rule = f"every {data['every']}th face, " if isinstance(data.get("every"), int) else ""
        if files:
            text = (f"{len(files)} faces the train stage held out ({rule}{record_file}); training never saw "
                    "them")
            return Holdout(tuple(position[f] for f in files), True, text)
        reason = (f"the train stage held out no face of this set ({record_file} lists none: a set smaller "
                  "than [train] holdout keeps all its faces)")
    else:
        reason = "the train stage recorded no held-out faces ([train] holdout = 0, or an older run)"
    indices = tuple(every_nth(len(faceset), every))
    text = (f"every {every}th face in record order ({len(indices)} faces); {reason}, so training saw these "
            "faces too and reconstruction scores are optimistic")
    return Holdout(indices, False, text)
