"""`fswap plugins new`: the package it writes for each kind compiles and holds its names; end to end, a
generated plugin installs with pip, passes its own tests, is listed by fswap and trains in a pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fswap.cli import cli, main
from fswap.errors import ConfigError
from fswap.scaffold import TEMPLATES, names_for, render, write_package
from fswap.train.toys import make_toy_faceset


def test_names_follow_the_distribution_name() -> None:
    assert names_for("fswap-sharp-blend") == names_for("fswap-sharp-blend", "sharp_blend")
    names = names_for("fswap-sharp-blend")
    assert (names.module, names.plugin, names.component) == ("fswap_sharp_blend", "sharp_blend",
                                                             "sharp_blend")
    assert names_for("acme-loss", "acme_l1").component == "acme_l1"
    for bad in ("Fswap-X", "fswap--x", "-x", "x y"):
        with pytest.raises(ConfigError, match="must be lower-case letters and digits"):
            names_for(bad)
    with pytest.raises(ConfigError, match="would make the module 'class', a Python keyword"):
        names_for("class")
    with pytest.raises(ConfigError, match="component name 'Two-Words'"):
        names_for("acme", "Two-Words")


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_template_renders_a_complete_package_that_compiles(kind: str) -> None:
    names = names_for(f"acme-{kind.replace('_', '-')}")
    files = render(kind, names)
    module = f"src/{names.module}"
    assert set(files) == {"pyproject.toml", "README.md", "tests/test_plugin.py", f"{module}/__init__.py",
                          f"{module}/config.py", f"{module}/{'loss_term' if kind == 'loss' else kind}.py"}
    for path, text in files.items():
        assert "$" not in text.replace("$ ", ""), f"{path}: an unfilled placeholder"
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert f'{names.plugin} = "{names.module}"' in files["pyproject.toml"]  # the entry point
    assert f'@declare(Kind.{kind.upper()}, "{names.component}", factory="{names.module}.' in \
        files[f"{module}/config.py"]
    check = {"loss": "check_loss", "blender": "check_blender", "color_transfer": "check_color_transfer",
             "mask_generator": "check_mask_generator", "tracker": "check_tracker"}[kind]
    assert f"{check}(declared(plugin_config)[0])" in files["tests/test_plugin.py"]


def test_a_kind_without_a_template_and_an_existing_folder_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "new", "acme-detect", "--kind", "detector", "--dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "fswap: error: fswap plugins new: no template for kind 'detector' yet; templates: blender, "
        "color_transfer, loss, mask_generator, tracker\n")
    assert not (tmp_path / "acme-detect").exists()
    write_package("blender", names_for("acme-blend"), tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        write_package("blender", names_for("acme-blend"), tmp_path)


PIPELINE = """
workdir = "work"
seed = 1
[train]
iterations = 2
batch_size = 2
checkpoint_every = 2
preview_every = 2
holdout = 0
[train.model]
resolution = 64
capacity = "lite"
width_divisor = 8
[train.model.attention]
use = "none"
[train.losses.reconstruction]
[train.losses.acme_l1]
weight = 2.5
masked_only = true
"""


@pytest.mark.slow
def test_a_generated_loss_plugin_installs_passes_its_tests_is_listed_and_trains(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["plugins", "new", "acme-losses", "--kind", "loss", "--component", "acme_l1",
                                 "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    package, site = tmp_path / "acme-losses", tmp_path / "site"
    # installed beside fswap's environment (not into it), as pip would for any user
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(package)], check=True, capture_output=True, text=True)
    env = {**os.environ, "PYTHONPATH": str(site), "CUDA_VISIBLE_DEVICES": ""}

    pytest_args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests"]
    tests = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=package, env=env,
                           capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "3 passed" in tests.stdout

    fswap = [sys.executable, "-c", "import sys; from fswap.cli import main; sys.exit(main(sys.argv[1:]))"]
    listed = subprocess.run([*fswap, "plugins", "list", "--kind", "loss", "--json"], env=env,
                            capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr[-2000:]
    rows = [row for row in json.loads(listed.stdout)["components"] if row["name"] == "acme_l1"]
    assert len(rows) == 1 and rows[0]["plugin"] == "acme_losses", rows

    project = tmp_path / "project"
    make_toy_faceset(project / "work" / "faces" / "a", "astronaut", count=2, seed=1)
    make_toy_faceset(project / "work" / "faces" / "b", "grace_hopper", count=2, seed=2)
    (project / "pipeline.toml").write_text(PIPELINE, encoding="utf-8")
    run = subprocess.run([*fswap, "run", str(project / "pipeline.toml"), "--stage", "train", "--no-progress"],
                         env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((project / "work" / "model" / "train_summary.json").read_text(encoding="utf-8"))
    assert summary["losses"] == {"reconstruction": 1.0, "acme_l1": 2.5}
    history = (project / "work" / "model" / "history.csv").read_text(encoding="utf-8").splitlines()
    header, last = history[0].split(","), history[-1].split(",")
    value = float(last[header.index("a/acme_l1")])
    assert 0.0 < value < 2.0  # mean |masked − target| of images in [-1, 1], where the mask is open
