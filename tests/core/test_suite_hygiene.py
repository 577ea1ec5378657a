"""The suite checks itself: `make test` (and so CI) runs it in a random order under a random hash seed.

A test that passes only after another one, or only for one PYTHONHASHSEED, passes on the author's machine
and fails on a user's. `make test` draws a fresh seed each run (printed first, `make test TEST_SEED=N` repeats
it) and hands it to pytest-randomly and to PYTHONHASHSEED; these tests fail if that wiring is lost.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _make_dry_run(*args: str) -> str:
    """`make -n test …` as a fresh make would do it (not influenced by a `make test` that runs this test)."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TEST_SEED"}}
    return subprocess.run(["make", "-n", "-C", str(ROOT), "test", *args], capture_output=True, text=True,
                          check=True, env=env).stdout.replace("\\\n", " ")


def test_make_test_randomises_order_and_hash_seed() -> None:
    dry_run = _make_dry_run()
    seeds = re.findall(r"PYTHONHASHSEED=(\d+) .*pytest.*-p randomly --randomly-seed=(\d+)", dry_run)
    assert seeds, f"make test no longer runs pytest under pytest-randomly with a hash seed:\n{dry_run}"
    hash_seed, order_seed = seeds[0]
    assert hash_seed == order_seed and int(hash_seed) > 0  # 0 would switch hash randomisation off
    assert f"PYTHONHASHSEED={hash_seed} " not in _make_dry_run(), "the seed must be fresh on every run"
    pinned = _make_dry_run("TEST_SEED=4242")
    assert "PYTHONHASHSEED=4242 " in pinned and "--randomly-seed=4242" in pinned


@pytest.mark.skipif("FSWAP_TEST_SEED" not in os.environ, reason="run outside make test (no seed was drawn)")
def test_this_run_is_randomised(pytestconfig: pytest.Config) -> None:
    seed = os.environ["FSWAP_TEST_SEED"]
    assert pytestconfig.pluginmanager.hasplugin("randomly"), "pytest-randomly is not active under make test"
    assert str(pytestconfig.getoption("randomly_seed")) == seed
    assert os.environ.get("PYTHONHASHSEED") == seed
    # The interpreter really runs with that hash seed: hash() of a str differs from an unseeded interpreter's.
    probe = "import sys; print(hash('fswap'), sys.flags.hash_randomization)"
    child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert child.stdout.split() == [str(hash("fswap")), "1"]


def test_ci_runs_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test\b", script, flags=re.MULTILINE), ".ci/run must call make test"


def test_test_module_names_are_unique() -> None:
    """The test folders are not packages, so pytest imports each test file by its bare name: two files of
    one name in different folders collide ("import file mismatch") whenever one process collects both, which
    under xdist depends on how files fall to workers."""
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name == "conftest.py":
            continue
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(ROOT)} and {path.relative_to(ROOT)}")
        seen.setdefault(path.name, path)
    assert not clashes, "test modules share a name: " + "; ".join(clashes)
