"""Model weights: known downloadable files (registered by plugins), a user cache, checksummed fetches.

A component's config has `weights = "path"`; when it is not set the component asks
`find_weights(spec, config.weights)`, which asks the run's plugins (hook `fswap_resolve_weights`), then
looks in the cache that `fswap weights fetch NAME` fills. Tests and demos never download.

A factory gets only its own config, so the run's plugin manager reaches `find_weights` as a resolver that
`resolving_weights(pm)` installs for the duration of a run (`run_pipeline`, `fswap.api` builds). It is a
context variable, not a module global: it is reset when the block ends and is not seen by other threads
or by code outside the block, which finds weights from the configuration and the cache alone.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from fswap.errors import PluginError, WeightsError

if TYPE_CHECKING:
    from fswap.plugins import PluginManager

CACHE_ENV = "FSWAP_CACHE_DIR"


@attrs.frozen
class WeightsSpec:
    """A weights file users can fetch: where from, its checksum and its licence."""

    name: str
    url: str
    filename: str
    licence: str
    sha256: str | None = None
    summary: str = ""


def cache_dir() -> Path:
    """The weights cache: $FSWAP_CACHE_DIR, else $XDG_CACHE_HOME/fswap/weights, else ~/.cache/…"""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "fswap" / "weights"


def cached_path(spec: WeightsSpec) -> Path:
    return cache_dir() / spec.name / spec.filename


Resolver = Callable[[str], Path | None]
"""Weights name → a local file, or None when no plugin knows it."""

_RESOLVER: contextvars.ContextVar[Resolver | None] = contextvars.ContextVar("fswap_weights_resolver",
                                                                            default=None)


def plugin_resolver(pm: PluginManager) -> Resolver:
    """Ask the plugins of `pm` through `fswap_resolve_weights`, in pluggy's call order; the first answer
    that is not None wins. An answer that is no existing file, or a hook that raises, is an error naming
    the plugin."""
    from fswap.plugins import DISABLE_ENV

    def resolve(name: str) -> Path | None:
        for impl in reversed(pm.hook.fswap_resolve_weights.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            provider = pm.provider_of(impl.plugin_name)
            try:
                answer = impl.function(name=name)
            except Exception as exc:
                raise PluginError(
                    f"plugin '{impl.plugin_name}' ({provider}) raised in fswap_resolve_weights('{name}'): "
                    f"{type(exc).__name__}: {exc}. Disable it with {DISABLE_ENV}={impl.plugin_name}"
                ) from exc
            if answer is None:
                continue
            path = Path(answer)
            if not path.is_file():
                raise WeightsError(
                    f"plugin '{impl.plugin_name}' ({provider}) resolved weights '{name}' to {path}, which is "
                    f"not a file; fix the plugin or disable it with {DISABLE_ENV}={impl.plugin_name}"
                )
            return path
        return None

    return resolve


@contextlib.contextmanager
def resolving_weights(pm: PluginManager | None) -> Iterator[None]:
    """Within the block, `find_weights` asks the plugins of `pm` before the cache (None: nobody)."""
    token = _RESOLVER.set(plugin_resolver(pm) if pm is not None else None)
    try:
        yield
    finally:
        _RESOLVER.reset(token)


def find_weights(spec: WeightsSpec, configured: Path | None) -> Path:
    """The configured file if given (must exist), else the file a plugin of the current run names
    (`fswap_resolve_weights`), else the cached download, else a WeightsError that says how to get it."""
    if configured is not None:
        if not configured.is_file():
            raise WeightsError(f"weights file {configured} does not exist")
        return configured
    resolver = _RESOLVER.get()
    resolved = resolver(spec.name) if resolver is not None else None
    if resolved is not None:
        return resolved
    path = cached_path(spec)
    if path.is_file():
        return path
    raise WeightsError(
        f"no weights for '{spec.name}': set weights = \"/path/to/{spec.filename}\" in the component's table, "
        f"or run `fswap weights fetch {spec.name}` while online (source: {spec.url}; licence: {spec.licence})"
    )


_SIGNATURES = {
    ".h5": (b"\x89HDF\r\n\x1a\n", "an HDF5 (.h5) file"),
    ".hdf5": (b"\x89HDF\r\n\x1a\n", "an HDF5 (.h5) file"),
    ".keras": (b"PK\x03\x04", "a .keras (zip) file"),
    ".npz": (b"PK\x03\x04", "an .npz (zip) file"),
}


def _check_format(spec: WeightsSpec, path: Path, source: Path | None) -> None:
    """Refuse a file whose first bytes do not match the format its name promises (an HTML error page, a
    truncated download, a wrong file) — the only check possible where a spec declares no checksum."""
    signature, what = _SIGNATURES.get(Path(spec.filename).suffix.lower(), (None, ""))
    if signature is None:
        return
    with path.open("rb") as fh:
        head = fh.read(len(signature))
    if head != signature:
        origin = source if source is not None else spec.url
        raise WeightsError(
            f"{origin}: not {what} as '{spec.name}' ({spec.filename}) needs; the file was not kept"
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    spec: WeightsSpec,
    *,
    source: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Download (or copy from a local `source`) into the cache atomically, verifying the checksum."""
    target = cached_path(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if source is not None:
                if not source.is_file():
                    raise WeightsError(f"{source}: no such file to import as '{spec.name}'")
                with source.open("rb") as src:
                    while block := src.read(1 << 20):
                        out.write(block)
            else:
                try:
                    with urllib.request.urlopen(spec.url, timeout=60) as response:
                        total = int(response.headers.get("Content-Length") or 0)
                        done = 0
                        while block := response.read(1 << 20):
                            out.write(block)
                            done += len(block)
                            if progress:
                                progress(done, total)
                except OSError as exc:
                    raise WeightsError(f"cannot download '{spec.name}' from {spec.url}: {exc}") from exc
            out.flush()
            os.fsync(out.fileno())
        _check_format(spec, tmp, source)
        if spec.sha256 is not None:
            actual = sha256_of(tmp)
            if actual != spec.sha256:
                raise WeightsError(
                    f"checksum mismatch for '{spec.name}': expected sha256 {spec.sha256}, got {actual}; "
                    "the file was not kept"
                )
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
