"""Loading user-supplied files runs no code: saved models load with Keras safe_mode (a Lambda layer is
refused), a model.json cannot make fswap import modules outside installed plugins, and no module uses
pickle/joblib or allow_pickle on files a user gives."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from fswap.errors import InputError, PluginError

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.joinpath("fswap").rglob("*.py"), *ROOT.joinpath("plugins").rglob("*.py")])
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def _calls_with_keyword(tree: ast.AST, keyword: str) -> list[ast.Call]:
    return [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and any(k.arg == keyword and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                for k in node.keywords)
    ]


def test_no_module_imports_pickle_like_loaders() -> None:
    assert len(SOURCES) > 50
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in UNSAFE_MODULES]
    assert found == []


def test_nothing_enables_pickle_or_turns_safe_mode_off() -> None:
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(ROOT)}:{c.lineno} allow_pickle"
                  for c in _calls_with_keyword(tree, "allow_pickle")]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for k in node.keywords:
                    safe = isinstance(k.value, ast.Constant) and k.value.value is True
                    if k.arg == "safe_mode" and not safe:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} safe_mode")
        found += [f"{path.relative_to(ROOT)}:{n.lineno} torch.load" for n in ast.walk(tree)
                  if isinstance(n, ast.Attribute) and n.attr == "load"
                  and isinstance(n.value, ast.Name) and n.value.id == "torch"]
    assert found == []


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fswap.catalog import Catalog
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks
    from fswap.plugins import make_plugin_manager

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "attention": {"use": "none"},
             "upsampling": {"use": "nearest"}}
    config = parse_model_config(table, catalog=catalog)
    folder = tmp_path_factory.mktemp("model")
    save_networks(build_networks(config), folder, config)
    return folder


@pytest.mark.slow
def test_a_saved_model_with_a_lambda_layer_is_refused(saved_model: Path, tmp_path: Path) -> None:
    """A `.keras` file whose config carries Python code (a Lambda layer) does not load: safe_mode."""
    import shutil

    import keras

    from fswap.model.io import load_networks

    marker = tmp_path / "code_ran"
    inputs = keras.Input((64, 64, 3))
    evil = keras.layers.Lambda(lambda x, m=str(marker): (open(m, "w").close(), x)[1])(inputs)
    model = keras.Model(inputs, evil)
    folder = tmp_path / "model"
    shutil.copytree(saved_model, folder)
    model.save(folder / "encoder.keras")
    marker.unlink()  # building the model ran the lambda once; loading must not
    with pytest.raises(InputError) as info:
        load_networks(folder)
    message = str(info.value)
    assert "encoder.keras: cannot load network" in message and "safe_mode" in message
    assert not marker.exists()


@pytest.mark.slow
def test_model_json_cannot_make_fswap_import_other_modules(saved_model: Path, tmp_path: Path) -> None:
    import shutil

    from fswap.model.io import load_networks

    folder = tmp_path / "model"
    shutil.copytree(saved_model, folder)
    evil = tmp_path / "site"
    evil.mkdir()
    marker = tmp_path / "imported"
    (evil / "fswap_evil_side_effect.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    sys.path.insert(0, str(evil))
    try:
        meta = json.loads((folder / "model.json").read_text())
        meta["components"]["attention"].update(factory="fswap_evil_side_effect:Layer")
        (folder / "model.json").write_text(json.dumps(meta))
        with pytest.raises(PluginError, match="which is not an installed fswap plugin; install"):
            load_networks(folder)
    finally:
        sys.path.remove(str(evil))
    assert not marker.exists()


def test_weights_fetch_from_a_local_file_offline_checks_the_format(tmp_path: Path, fswap_cli) -> None:
    """`fswap weights fetch NAME --from-file` works without network; for the shipped specs (which declare
    no sha256) a file that is not HDF5 is refused and nothing lands in the cache."""
    import h5py

    cache = tmp_path / "cache"
    env = {"FSWAP_CACHE_DIR": str(cache), "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    junk = tmp_path / "junk.h5"
    junk.write_text("<html>404 Not Found</html>")
    done = fswap_cli("weights", "fetch", "facenet512", "--from-file", str(junk), env=env)
    assert done.returncode == 2
    assert done.error_lines[-1].startswith(f"fswap: error: {junk}: not an HDF5 (.h5) file as 'facenet512'")
    assert not list(cache.rglob("*.h5")) and not list(cache.rglob("*.part"))

    good = tmp_path / "weights.h5"
    with h5py.File(good, "w") as fh:
        fh.create_dataset("w", data=[1.0, 2.0])
    done = fswap_cli("weights", "fetch", "facenet512", "--from-file", str(good), env=env)
    assert done.returncode == 0, done.stderr
    cached = Path(done.stdout.strip())
    assert cached.is_relative_to(cache) and cached.read_bytes() == good.read_bytes()
