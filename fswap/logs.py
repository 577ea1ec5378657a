"""Where `logging` records go during one `fswap` command: to stderr, drawn around the progress bars.

Only the CLI calls `cli_logging()`; the library itself never configures logging, so programs using
`fswap.api` decide where fswap's and the plugins' records go. Plugins log with
`logging.getLogger(__name__)`; their records propagate to the root logger, where the CLI's handler
prints those at or above the chosen level (WARNING by default).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping

from fswap.errors import ConfigError

LEVEL_ENV = "FSWAP_LOG_LEVEL"
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
NOISY_LOGGERS = ("tensorflow", "absl", "matplotlib", "PIL", "h5py")
"""Third-party loggers kept at WARNING unless the level is DEBUG (-vv): their INFO lines are not news."""

FORMAT = "%(levelname)s %(name)s: %(message)s"


def parse_level(name: str, where: str) -> int:
    """The logging level called `name` (any case); `where` says where the name came from."""
    level = LEVELS.get(name.strip().lower())
    if level is None:
        raise ConfigError(f"{where}: '{name}' is not a log level; valid: {', '.join(LEVELS)}")
    return level


def choose_level(
    verbose: int, log_level: str | None, environ: Mapping[str, str] | None = None
) -> int:
    """--log-level beats -v/-vv (INFO/DEBUG), which beats $FSWAP_LOG_LEVEL; WARNING otherwise."""
    if log_level is not None:
        return parse_level(log_level, "--log-level")
    if verbose:
        return logging.INFO if verbose == 1 else logging.DEBUG
    raw = (os.environ if environ is None else environ).get(LEVEL_ENV, "")
    if raw.strip():
        return parse_level(raw, LEVEL_ENV)
    return logging.WARNING


class ProgressAwareHandler(logging.Handler):
    """Writes each record as its own line on the current `sys.stderr`. While tqdm bars are on screen it
    writes through `tqdm.write`, which takes tqdm's lock, clears the bars, prints the line and redraws
    them, so a record never lands in the middle of a bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            stream = sys.stderr
            tqdm_module = sys.modules.get("tqdm")  # no bars can be on screen before tqdm is imported
            if tqdm_module is not None:
                tqdm_module.tqdm.write(message, file=stream)
            else:
                stream.write(message + "\n")
                stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def cli_logging(level: int) -> Iterator[logging.Handler]:
    """For one CLI command: records at or above `level` from any logger go to stderr; the root logger's
    level and the noisy libraries' levels are put back afterwards and the handler removed."""
    root = logging.getLogger()
    handler = ProgressAwareHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    saved_root = root.level
    noisy = [logging.getLogger(name) for name in NOISY_LOGGERS] if level > logging.DEBUG else []
    saved_noisy = [logger.level for logger in noisy]
    root.addHandler(handler)
    root.setLevel(level)
    for logger in noisy:
        logger.setLevel(max(level, logging.WARNING))
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for logger, saved in zip(noisy, saved_noisy, strict=True):
            logger.setLevel(saved)
