"""Weights: the cache location, finding configured or cached files, checksummed atomic fetches."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fswap.errors import WeightsError
from fswap.weights import CACHE_ENV, WeightsSpec, cache_dir, cached_path, fetch, find_weights, sha256_of

PAYLOAD = b"fswap-test-weights" * 1000


def spec(sha256: str | None) -> WeightsSpec:
    return WeightsSpec(name="toy-net", url="https://example.invalid/toy.bin", filename="toy.bin",
                       licence="CC0", sha256=sha256)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "download.bin"
    path.write_bytes(PAYLOAD)
    return path


def test_cache_dir_honours_env_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "fswap" / "weights"


def test_fetch_from_local_file_with_matching_checksum(cache: Path, source: Path) -> None:
    good = spec(hashlib.sha256(PAYLOAD).hexdigest())
    path = fetch(good, source=source)
    assert path == cache / "toy-net" / "toy.bin" == cached_path(good)
    assert path.read_bytes() == PAYLOAD
    assert sha256_of(path) == good.sha256
    assert [p.name for p in path.parent.iterdir()] == ["toy.bin"]  # no temporary file left behind
    assert find_weights(good, None) == path


def test_checksum_mismatch_leaves_nothing_in_the_cache(cache: Path, source: Path) -> None:
    bad = spec("0" * 64)
    with pytest.raises(WeightsError) as info:
        fetch(bad, source=source)
    assert "checksum mismatch for 'toy-net'" in str(info.value) and "not kept" in str(info.value)
    assert list((cache / "toy-net").iterdir()) == []


def test_failed_refetch_keeps_the_previous_good_file(cache: Path, source: Path, tmp_path: Path) -> None:
    good = spec(hashlib.sha256(PAYLOAD).hexdigest())
    fetch(good, source=source)
    corrupt = tmp_path / "corrupt.bin"
    corrupt.write_bytes(PAYLOAD[:-1])
    with pytest.raises(WeightsError):
        fetch(good, source=corrupt)
    assert cached_path(good).read_bytes() == PAYLOAD
    assert [p.name for p in cached_path(good).parent.iterdir()] == ["toy.bin"]


def test_missing_source_file(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no such file to import as 'toy-net'"):
        fetch(spec(None), source=tmp_path / "absent.bin")
    assert list((cache / "toy-net").iterdir()) == []


def test_unreachable_url_is_a_weights_error(cache: Path) -> None:
    offline = WeightsSpec(name="toy-net", url="file:///nonexistent/dir/toy.bin", filename="toy.bin",
                          licence="CC0")
    with pytest.raises(WeightsError, match="cannot download 'toy-net' from file:///nonexistent"):
        fetch(offline)
    assert list((cache / "toy-net").iterdir()) == []


def test_find_weights_prefers_configured_then_cache_then_explains(cache: Path, source: Path) -> None:
    unverified = spec(None)
    assert find_weights(unverified, source) == source
    with pytest.raises(WeightsError, match=r"weights file .*absent\.bin does not exist"):
        find_weights(unverified, source.parent / "absent.bin")
    with pytest.raises(WeightsError) as info:
        find_weights(unverified, None)
    message = str(info.value)
    assert "fswap weights fetch toy-net" in message and 'weights = "/path/to/toy.bin"' in message
    assert "licence: CC0" in message
