"""Writing files so that a crash never leaves a truncated one (used by every layer, so it lives low)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from fswap.errors import StageError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON via a temporary file and rename, so a crash never leaves a truncated file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise StageError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False)
            fh.write("\n")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except OSError as exc:  # e.g. disk full: an earlier version of the file stays as it was
        reason = exc.strerror or exc
        raise StageError(f"{path}: cannot write ({reason}); an earlier version is unchanged") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
