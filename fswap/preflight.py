"""Checks a stage runs before any work (and before heavy imports): the inputs it names exist.

`fswap validate` checks the shape of a pipeline and may run where the media are not (yet); `fswap run`
calls these first, so a missing file is one line naming the section instead of a failure minutes in.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

from fswap.errors import ConfigError, FswapError, InputError


def require_input(
    path: Any, where: str, *, what: str = "a video file, an image folder or a glob of images"
) -> None:
    """InputError `where: input …: no such file or folder` unless `path` is a file, folder or glob that
    exists."""
    text = str(path)
    if Path(text).exists():
        return
    if any(ch in text for ch in "*?[") and glob.glob(text, recursive=True):
        return
    raise InputError(f"{where}: input {text}: no such file or folder (give {what})")


MODEL_SETTINGS = "model_settings.json"
"""Beside the checkpoints: the [train.model] settings they were written with (to explain a mismatch)."""


def read_model_settings(checkpoints: Path) -> dict[str, Any] | None:
    """The settings recorded beside existing checkpoints, or None."""
    file = checkpoints / MODEL_SETTINGS
    if not file.is_file() or not any(p.name.startswith("ckpt-") for p in checkpoints.iterdir()):
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def record_model_settings(checkpoints: Path, settings: dict[str, Any]) -> None:
    """Record the settings the checkpoints in `checkpoints` are (about to be) written with."""
    from fswap.files import write_json_atomic

    write_json_atomic(checkpoints / MODEL_SETTINGS, settings)


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def model_settings_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`key: checkpoints X, now Y` for every setting that differs (nested keys joined by dots)."""
    a, b = _flat(old), _flat(new)
    return [
        f"{key}: checkpoints {a.get(key, '(absent)')!r}, now {b.get(key, '(absent)')!r}"
        for key in sorted(set(a) | set(b))
        if a.get(key, "(absent)") != b.get(key, "(absent)")
    ]


def checkpoint_mismatch(
    exc: InputError, old: dict[str, Any] | None, new: dict[str, Any], where: str
) -> FswapError:
    """The error for checkpoints that do not fit the configured model: what differs, when it is known."""
    differences = model_settings_differences(old, new) if old is not None else []
    if not differences:
        return exc
    more = len(differences) - 4
    shown = "; ".join(differences[:4]) + (f"; and {more} more" if more > 0 else "")
    return ConfigError(
        f"{where}: the checkpoints were written for another model ({shown}); put those settings back to "
        "resume, or run with --fresh to start over"
    )
