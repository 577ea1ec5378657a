"""The third-party example plugin (examples/fswap-plugin-example), installed like any other package:
discovered through its entry point, listed with its distribution, selectable from pipeline.toml, usable."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fswap.builder import build
from fswap.catalog import Catalog
from fswap.config import load_pipeline
from fswap.plugins import DISABLE_ENV, make_plugin_manager

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fswap-plugin-example"
DIST = "fswap-plugin-example"


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    """Install the example the way the Makefile does (local, no downloads) unless it already is."""
    try:
        md.distribution(DIST)
    except md.PackageNotFoundError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", "-e",
             str(EXAMPLE)],
            check=True, timeout=300,
        )
        import importlib

        importlib.invalidate_caches()
    assert md.distribution(DIST).version == "0.2.0"


def fswap_cmd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fswap.cli", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )


def write_pipeline(tmp_path: Path, detector: str, losses: str) -> Path:
    (tmp_path / "inputs").mkdir(exist_ok=True)
    path = tmp_path / "pipeline.toml"
    path.write_text(
        'workdir = "work"\n'
        "[extract.a]\ninput = \"inputs/a\"\n"
        f"[extract.detector]\n{detector}\n"
        "[train]\niterations = 2\nbatch_size = 2\n"
        "[train.model]\nresolution = 64\ncapacity = \"lite\"\n"
        f"{losses}\n"
    )
    return path


GOOD_DETECTOR = 'use = "dlib_hog"\nupsample = 0'
GOOD_LOSSES = "[train.losses.reconstruction]\n[train.losses.ssim]\nweight = 0.5\nscales = 2\nfilter_size = 7"


def test_discovered_with_its_distribution() -> None:
    pm = make_plugin_manager()
    provider = pm.provider_of("example")
    assert (provider.distribution, provider.version) == (DIST, "0.2.0")
    catalog = Catalog.from_plugin_manager(pm)
    assert catalog.get("detector", "dlib_hog").provider == provider
    assert catalog.get("loss", "dssim").spec.name == "ssim"


def test_listed_with_its_distribution_in_json() -> None:
    done = fswap_cmd("plugins", "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(done.stdout)["components"]}
    for key in (("detector", "dlib_hog"), ("loss", "ssim")):
        assert rows[key]["distribution"] == DIST and rows[key]["version"] == "0.2.0"
        assert rows[key]["plugin"] == "example"
    assert rows[("detector", "mtcnn")]["distribution"] == "fswap"  # built-ins still there, side by side


def test_plugins_show_lists_its_options() -> None:
    done = fswap_cmd("plugins", "show", "detector", "dlib_hog")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"detector 'dlib_hog' from {DIST} 0.2.0 (plugin 'example')")
    for name in ("upsample", "score_threshold", "min_face_size", "weights"):
        assert f"  {name} (" in done.stdout
    done = fswap_cmd("plugins", "show", "loss", "dssim")  # by alias
    assert done.returncode == 0, done.stderr
    assert "loss 'ssim' from" in done.stdout and "aliases: dssim" in done.stdout


def test_selectable_from_toml_and_validate_imports_no_heavy_library(tmp_path: Path) -> None:
    path = write_pipeline(tmp_path, GOOD_DETECTOR, GOOD_LOSSES)
    script = (
        "import json, sys\nfrom fswap.cli import main\n"
        f"rc = main(['validate', {str(path)!r}])\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'cv2', 'dlib') if m in sys.modules)\n"
        "sys.stderr.write('\\nRESULT ' + json.dumps([rc, heavy]) + '\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    result = [line for line in done.stderr.splitlines() if line.startswith("RESULT ")]
    assert result, done.stderr
    assert json.loads(result[-1][len("RESULT "):]) == [0, []]
    assert "valid; stages: extract, train" in done.stdout


def test_misspelt_name_and_option_are_explained(tmp_path: Path) -> None:
    path = write_pipeline(tmp_path, 'use = "dlib_hgo"', "")
    done = fswap_cmd("validate", str(path))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert line.startswith("fswap: error: pipeline.toml [extract.detector]: no detector named 'dlib_hgo'. ")
    assert f"dlib_hog ({DIST} 0.2.0)" in line and line.endswith("Did you mean 'dlib_hog'?")
    path = write_pipeline(tmp_path, GOOD_DETECTOR, "[train.losses.ssim]\nscale = 2")
    done = fswap_cmd("validate", str(path))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "fswap: error: pipeline.toml [train.losses.ssim] (ssim): unknown option 'scale'; "
        "valid: weight, output, scales, filter_size, filter_sigma. Did you mean 'scales'?"
    )
    path = write_pipeline(tmp_path, 'use = "dlib_hog"\nupsample = 5', "")
    done = fswap_cmd("validate", str(path))
    assert done.stderr.strip() == (
        "fswap: error: pipeline.toml [extract.detector] (dlib_hog): "
        "upsample must be between 0 and 3, received 5"
    )


def test_disable_switch_removes_it(tmp_path: Path) -> None:
    done = fswap_cmd("plugins", "list", "--json", env={DISABLE_ENV: "example"})
    assert done.returncode == 0
    assert DIST not in {r["distribution"] for r in json.loads(done.stdout)["components"]}
    path = write_pipeline(tmp_path, GOOD_DETECTOR, "")
    done = fswap_cmd("validate", str(path), env={DISABLE_ENV: "example"})
    assert done.returncode == 2 and "no detector named 'dlib_hog'" in done.stderr


@pytest.mark.slow
def test_usable_built_from_a_validated_pipeline(tmp_path: Path) -> None:
    from fswap.testing import sample_detection, sample_frame

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    pipeline = load_pipeline(write_pipeline(tmp_path, GOOD_DETECTOR, GOOD_LOSSES), catalog=catalog)
    detector = build(pipeline.stage("extract").detector)
    faces = detector.detect([sample_frame("astronaut")])[0]
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    true_x, true_y = sample_detection("astronaut").center
    assert abs(x + w / 2 - true_x) < 15 and abs(y + h / 2 - true_y) < 25
    losses = {c.name: c for c in pipeline.stage("train").losses}
    ssim = build(losses["ssim"])
    assert ssim.weight == 0.5 and ssim.uses_discriminator is False


@pytest.mark.slow
def test_the_plugins_own_contract_tests_pass() -> None:
    """The example's tests use fswap.testing (check_detector, check_loss) as a plugin author would."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
