"""Progress bars of every stage, with an optional machine-readable copy for `fswap studio`.

`tqdm(...)` takes tqdm's own arguments and returns a tqdm bar. When the environment variable
FSWAP_PROGRESS_FILE names a file, the bar also appends JSON lines to it,
``{"desc", "n", "total", "unit", "rate", "elapsed"}``, at most every PROGRESS_INTERVAL seconds and once
when it closes. A bar hidden by --no-progress still reports there (it draws to the null device instead of
the terminal), so a job can keep its log free of bar redraws and still show its progress.

tqdm is imported on the first bar, never at import time; nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from typing import Any

PROGRESS_ENV = "FSWAP_PROGRESS_FILE"
PROGRESS_INTERVAL = 0.25  # seconds between two lines of one bar (the final line is always written)

_BAR_CLASS: type | None = None


def _record(bar: Any) -> dict[str, Any]:
    """The line describing `bar` now."""
    info = bar.format_dict
    elapsed = float(info.get("elapsed") or 0.0)
    rate = info.get("rate")
    if rate is None and elapsed > 0:
        rate = (bar.n - getattr(bar, "_fswap_initial", 0)) / elapsed
    return {
        "desc": bar.desc or "",
        "n": bar.n,
        "total": bar.total,
        "unit": bar.unit,
        "rate": None if rate is None else round(float(rate), 4),
        "elapsed": round(elapsed, 3),
    }


def append_line(path: str, record: dict[str, Any]) -> None:
    """Append one JSON line to the progress file (an unwritable file is ignored: progress is optional)."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
    except OSError:
        pass


def _bar_class() -> type:
    """A tqdm subclass that copies its state to the progress file (made once, on the first bar)."""
    global _BAR_CLASS
    if _BAR_CLASS is not None:
        return _BAR_CLASS
    from tqdm import tqdm as base

    class ReportingBar(base):  # type: ignore[misc, valid-type]
        """tqdm that appends its state to FSWAP_PROGRESS_FILE (throttled, and at close)."""

        def __init__(self, *args: Any, progress_file: str, devnull: Any = None, **kwargs: Any) -> None:
            self._fswap_file = progress_file
            self._fswap_devnull = devnull
            self._fswap_last = 0.0
            self._fswap_closed = False
            super().__init__(*args, **kwargs)
            self._fswap_initial = self.n
            self._fswap_report(force=True)

        def _fswap_report(self, force: bool = False) -> None:
            now = time.monotonic()
            if force or now - self._fswap_last >= PROGRESS_INTERVAL:
                self._fswap_last = now
                append_line(self._fswap_file, _record(self))

        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            self._fswap_report()
            return shown

        def close(self) -> None:
            if not self._fswap_closed and hasattr(self, "_fswap_file"):
                self._fswap_closed = True
                self._fswap_report(force=True)
            super().close()
            if getattr(self, "_fswap_devnull", None) is not None:
                self._fswap_devnull.close()

    _BAR_CLASS = ReportingBar
    return ReportingBar


def tqdm(iterable: Iterable[Any] | None = None, **kwargs: Any) -> Any:
    """A tqdm progress bar (same arguments); also reported to FSWAP_PROGRESS_FILE when that is set."""
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        from tqdm import tqdm as base

        return base(iterable, **kwargs)
    devnull = None
    if kwargs.get("disable"):  # hidden on the terminal, still counted for the progress file
        devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed with the bar
        kwargs["disable"] = False
        kwargs["file"] = devnull
    return _bar_class()(iterable, progress_file=path, devnull=devnull, **kwargs)
