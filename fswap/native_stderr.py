"""What C libraries print straight to file descriptor 2, kept out of the way of fswap's one-line errors.

libpng/libjpeg/FFmpeg complain on stderr before OpenCV returns a failure, and TensorFlow's import prints
absl start-up lines that TF_CPP_MIN_LOG_LEVEL no longer hides; either would turn a one-line user error
into several lines. `capture()` collects such output for a block so the caller can put it into its error;
`quiet_tensorflow_import()` drops TensorFlow's start-up lines (the CLI installs it unless --debug).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

_TF_CHATTER = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:.]+\s+\d+ \w+\.cc:\d+\]"
    r"|To enable the following instructions:)"
)


@contextlib.contextmanager
def capture() -> Iterator[Callable[[], str]]:
    """Redirect fd 2 into a temporary file meanwhile; the yielded function returns the text afterwards."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2: nothing to capture
        yield lambda: ""
        return
    captured: list[str] = []
    with tempfile.TemporaryFile() as sink:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            yield lambda: "".join(captured)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))


def without_tensorflow_chatter(text: str) -> str:
    """`text` minus TensorFlow's start-up log lines."""
    return "".join(line for line in text.splitlines(True) if not _TF_CHATTER.match(line))


class _QuietLoader(importlib.abc.Loader):
    """Wraps the real loader of the `tensorflow` package: runs its import with fd 2 captured."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        said: Callable[[], str] = lambda: ""  # noqa: E731
        try:
            with capture() as said:
                self.loader.exec_module(module)
        finally:
            rest = without_tensorflow_chatter(said())
            if rest.strip():
                sys.stderr.write(rest)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` with the other finders and gives it the quiet loader."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def quiet_tensorflow_import() -> None:
    """Install (once) the finder that hides TensorFlow's start-up lines; no effect once it is imported."""
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietFinder())
