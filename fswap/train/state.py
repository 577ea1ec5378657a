"""Training state on disk: checkpoints written atomically, the last K kept, periodic backups.

A checkpoint is a folder `ckpt-<iteration:08d>/` with `variables.npz` (every network weight and
optimiser slot, in a fixed order) and `state.json` (iteration, schedule phase, learning-rate backoff,
failure count). It is written into a temporary folder and renamed into place, so a crash or kill never
leaves a half-written checkpoint under a real name; a folder without `state.json` is ignored.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.errors import InputError, TrainingError

PREFIX = "ckpt-"
STATE = "state.json"
VARIABLES = "variables.npz"


@attrs.frozen
class TrainState:
    """What besides the weights a resumed run needs to continue exactly."""

    iteration: int
    phase: int
    lr_backoff: float = 1.0
    nan_failures: int = 0
    decoders_swapped: int = 0

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainState:
        return cls(**{f.name: data[f.name] for f in attrs.fields(cls) if f.name in data})


def _key(i: int, var: Any) -> str:
    return f"{i:05d}:{getattr(var, 'path', None) or var.name}"


class CheckpointStore:
    """Saves and restores a fixed list of variables under `folder`."""

    def __init__(
        self, folder: Path, variables: Sequence[Any], *, keep: int = 3, backup_every: int = 0
    ) -> None:
        self.folder = folder
        self.variables = list(variables)
        self.keep = keep
        self.backup_every = backup_every

    @property
    def backups(self) -> Path:
        return self.folder / "backups"

    def checkpoints(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [p for p in self.folder.iterdir() if p.name.startswith(PREFIX) and (p / STATE).is_file()]
        return sorted(found, key=lambda p: p.name)

    def latest(self) -> Path | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def save(self, state: TrainState) -> Path:
        """Write a checkpoint atomically, prune old ones and keep a backup when one is due."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{PREFIX}{state.iteration:08d}"
        previous = self.latest()
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=self.folder))
        except OSError as exc:
            raise _write_error(final, previous, exc) from exc
        try:
            arrays = {_key(i, v): np.asarray(v.numpy()) for i, v in enumerate(self.variables)}
            with (tmp / VARIABLES).open("wb") as fh:
                np.savez(fh, **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            (tmp / STATE).write_text(json.dumps(state.to_json(), indent=2) + "\n", encoding="utf-8")
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except OSError as exc:  # e.g. disk full: the earlier checkpoints are untouched
            raise _write_error(final, previous, exc) from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        for stale in self.folder.glob(f".{PREFIX}*.tmp"):  # left by a process killed while writing
            shutil.rmtree(stale, ignore_errors=True)
        if self.backup_every and state.iteration and state.iteration % self.backup_every == 0:
            self.backups.mkdir(parents=True, exist_ok=True)
            backup = self.backups / final.name
            if not backup.exists():
                shutil.copytree(final, backup, copy_function=_link_or_copy)
        self.prune()
        return final

    def prune(self) -> None:
        """Remove all but the newest `keep` checkpoints (backups are never pruned)."""
        for old in self.checkpoints()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)

    def restore(self, path: Path | None = None) -> TrainState:
        """Load the given (or latest) checkpoint into the variables and return its state."""
        path = path or self.latest()
        if path is None:
            raise InputError(f"{self.folder}: no checkpoint to resume from")
        try:
            state = TrainState.from_json(json.loads((path / STATE).read_text(encoding="utf-8")))
            with np.load(path / VARIABLES) as data:
                keys = sorted(data.files)
                if len(keys) != len(self.variables):
                    raise InputError(
                        f"{path}: holds {len(keys)} variables but the model has {len(self.variables)}; "
                        "it was written for another model configuration (run with --fresh to start over)"
                    )
                for key, var in zip(keys, self.variables, strict=True):
                    value = data[key]
                    if tuple(value.shape) != tuple(var.shape):
                        raise InputError(
                            f"{path}: variable {key} has shape {value.shape}, the model expects "
                            f"{tuple(var.shape)}; use --fresh or the matching [train.model] settings"
                        )
                    var.assign(value)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc})") from exc
        return state


def _write_error(final: Path, previous: Path | None, exc: OSError) -> TrainingError:
    kept = f"the previous checkpoint {previous.name} is intact" if previous else "no checkpoint was written"
    reason = exc.strerror or str(exc)
    return TrainingError(f"{final}: cannot write the checkpoint ({reason}); {kept}; free space and resume")


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
