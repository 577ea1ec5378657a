"""Model-block plugins (normalization, attention) that fail when their layer is created, built or run in the
compiled train step, and a failing `fswap_pipeline_built` hook: through the real CLI each is exit 1 and one
line naming the component (or plugin) and its distribution with the FSWAP_DISABLE_PLUGINS switch, never
fswap's "internal error"."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_kit import FSWAP, HERE, Done, extract_toml, image_folder, write_toml

DIST = "fswap-rel-faulty-blocks 1.0"
SWITCH = "FSWAP_DISABLE_PLUGINS=relblocks"


@pytest.fixture(scope="module")
def blocks_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site folder holding the fswap-rel-faulty-blocks distribution (entry point relblocks)."""
    root = tmp_path_factory.mktemp("blocks_site")
    info = root / "fswap_rel_faulty_blocks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fswap-rel-faulty-blocks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[fswap.plugins]\nrelblocks = fswap_rel_faulty_blocks\n")
    return root


@pytest.fixture(scope="module")
def blocks_cli(blocks_site: Path, plugin_site: Path) -> Callable[..., Done]:
    """`fswap ARGS` with the fswap-rel-faulty-blocks distribution (and fswap-rel-faulty) installed."""
    root = blocks_site

    def run(*args: str, env: dict[str, str] | None = None) -> Done:
        path = os.pathsep.join([str(root), str(plugin_site), str(HERE), os.environ.get("PYTHONPATH", "")])
        full_env = {k: v for k, v in os.environ.items() if k not in ("FSWAP_DISABLE_PLUGINS",)}
        full_env.update({"PYTHONPATH": path, **(env or {})})
        done = subprocess.run([str(FSWAP), *args], capture_output=True, text=True, env=full_env, timeout=300)
        return Done(done.returncode, done.stdout, done.stderr)

    return run


def _plugin_line(done: Done, label: str) -> str:
    assert done.returncode == 1, done.stderr[-3000:]
    (line,) = done.error_lines
    assert line.startswith("fswap: error: ") and "internal error" not in line, line
    assert label in line and SWITCH in line, line
    return line


def _train_toml(folder: Path, normalization: str, attention: str) -> Path:
    from fswap.train.toys import make_toy_faceset

    make_toy_faceset(folder / "work" / "faces" / "a", "astronaut", count=2)
    make_toy_faceset(folder / "work" / "faces" / "b", "grace_hopper", count=2)
    return write_toml(folder, f"""
        [train]
        iterations = 2
        batch_size = 2
        [train.model]
        resolution = 64
        capacity = "lite"
        width_divisor = 16
        [train.model.normalization]
        {normalization}
        [train.model.attention]
        {attention}
        [train.losses.reconstruction]
    """)


FAULTY_NORM = 'use = "faulty_norm"\nmode = "{mode}"'
FAULTY_ATTENTION = 'use = "faulty_attention"\nmode = "{mode}"'


def test_normalization_failing_when_its_layer_is_built(tmp_path: Path, blocks_cli) -> None:
    toml = _train_toml(tmp_path, FAULTY_NORM.format(mode="build"), 'use = "none"')
    done = blocks_cli("run", str(toml), "--stage", "train", "--no-progress")
    line = _plugin_line(done, f"[train.model.normalization] normalization 'faulty_norm' ({DIST}) failed in "
                              "its layer 'conv2_norm' while the networks were built (applied to "
                              "(None, 16, 16,")
    assert "ValueError: cannot normalise" in line
    assert "choose another normalization in [train.model.normalization]" in line


def test_attention_failing_when_its_layer_is_created(tmp_path: Path, blocks_cli) -> None:
    toml = _train_toml(tmp_path, 'use = "batch"', FAULTY_ATTENTION.format(mode="create"))
    done = blocks_cli("run", str(toml), "--stage", "train", "--no-progress")
    line = _plugin_line(done, f"[train.model.attention] attention 'faulty_attention' ({DIST}) failed "
                              "creating layer 'attention1' (")
    assert "KeyError: 'groups'" in line


@pytest.mark.slow
def test_normalization_failing_in_an_op_of_the_compiled_train_step(tmp_path: Path, blocks_cli) -> None:
    toml = _train_toml(tmp_path, FAULTY_NORM.format(mode="run"), 'use = "none"')
    done = blocks_cli("run", str(toml), "--stage", "train", "--no-progress")
    line = _plugin_line(done, f"[train.model.normalization] normalization 'faulty_norm' ({DIST}) failed in "
                              "its layer '")
    assert "when the compiled train step ran (iteration 1)" in line
    assert "no statistics for a batch of 2" in line
    assert not list((tmp_path / "work" / "model").glob("checkpoints/ckpt-00000001"))


def test_pipeline_built_hook_failing_names_its_plugin(tmp_path: Path, blocks_cli) -> None:
    image_folder(tmp_path / "in", 1)
    toml = extract_toml(tmp_path, "in")
    done = blocks_cli("run", str(toml), "--stage", "extract", "--no-progress",
                      env={"FSWAP_REL_HOOK_FAILS": "1"})
    line = _plugin_line(done, f"fswap_pipeline_built hook of plugin 'relblocks' ({DIST}) failed after the "
                              "extract stage's components were built: AttributeError: ExtractComponents has "
                              "no attribute 'detectors'")
    assert "relfaulty" not in line  # the other plugin's hook implementations are not blamed


def test_normalization_failing_in_the_convert_generator(tmp_path: Path, blocks_site: Path, blocks_cli,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A saved model whose normalization layer fails when it runs: model.json still says whose layer it is."""
    from fswap.catalog import Catalog
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks
    from fswap.plugins import make_plugin_manager

    monkeypatch.syspath_prepend(str(blocks_site))  # the distribution, seen by importlib.metadata
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "attention": {"use": "none"},
             "normalization": {"use": "faulty_norm", "mode": "run"}}
    config = parse_model_config(table, catalog=catalog)
    save_networks(build_networks(config), tmp_path / "work" / "model" / "export", config)
    image_folder(tmp_path / "in", 2)
    toml = write_toml(tmp_path, """
        [convert]
        input = "in"
        [convert.detector]
        use = "faulty"
        [convert.writer]
        use = "image_sequence"
    """)
    done = blocks_cli("run", str(toml), "--stage", "convert", "--no-progress")
    line = _plugin_line(done, f"[train.model.normalization] normalization 'faulty_norm' ({DIST}) failed in "
                              "its layer 'conv2_norm' when the model generated a batch of")
    assert "no statistics for a batch of" in line
    assert "train a model with another normalization in [train.model.normalization]" in line
