"""Save and load the five networks as `.keras` files (reloaded with safe_mode=True) plus `model.json`.

model.json records the resolution, capacity, the resolved config and, for every component the networks
were built with (nested ones included), its factory module and the plugin/distribution that provided it,
so loading can import exactly the modules that register the custom layers — or say what to install.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import attrs
import keras

from fswap.components import ComponentChoice
from fswap.errors import InputError, PluginError
from fswap.files import write_json_atomic
from fswap.model.config import ModelConfig
from fswap.model.networks import SIDES, Networks
from fswap.structure import unstructure

FORMAT_VERSION = 1
METADATA = "model.json"


def _choices(value: Any, path: str = "") -> list[tuple[str, ComponentChoice]]:
    """Every ComponentChoice inside an attrs config, with a dotted path (nested components included)."""
    found: list[tuple[str, ComponentChoice]] = []
    if isinstance(value, ComponentChoice):
        found.append((path, value))
        value = value.config
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            sub = f"{path}.{field.name}" if path else field.name
            found += _choices(getattr(value, field.name), sub)
    return found


def model_metadata(networks: Networks, config: ModelConfig) -> dict[str, Any]:
    """The JSON-friendly description written next to the networks."""
    components = {
        path: {"kind": str(c.spec.kind), "name": c.spec.name, "factory": c.spec.factory,
               "plugin": c.provider.plugin, "distribution": c.provider.distribution,
               "version": c.provider.version}
        for path, c in _choices(config)
    }
    return {
        "format": FORMAT_VERSION,
        "resolution": config.resolution,
        "capacity": config.capacity,
        "width_divisor": config.width_divisor,
        "condition_channels": networks.condition_channels,
        "keras_version": keras.__version__,
        "config": unstructure(config),
        "components": components,
        "block_layers": block_layers(networks, config),
        "parameters": {name: int(model.count_params()) for name, model in networks.all().items()},
        "files": {name: f"{name}.keras" for name in networks.all()},
    }


def block_layers(networks: Networks, config: ModelConfig) -> dict[str, dict[str, str]]:
    """Per network, the layers a block component made: layer name → the component's path in `config`
    ("normalization"), so a loaded model can still say whose layer failed."""
    from fswap.model.attribution import choice_of_layer

    paths = _choices(config)
    out: dict[str, dict[str, str]] = {}
    for name, model in networks.all().items():
        made = {}
        for layer in model._flatten_layers(include_self=False, recursive=True):
            choice = choice_of_layer(layer)
            path = next((p for p, c in paths if c is choice), None) or next(
                (p for p, c in paths if c == choice), None)
            if choice is not None and path is not None:
                made.setdefault(str(layer.name), path)
        out[name] = made
    return out


def save_networks(networks: Networks, folder: Path, config: ModelConfig) -> Path:
    """Write every network to `folder/<name>.keras` and `folder/model.json`; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, model in networks.all().items():
        final = folder / f"{name}.keras"
        tmp = folder / f".{name}.tmp.keras"
        model.save(tmp)
        tmp.replace(final)
    write_json_atomic(folder / METADATA, model_metadata(networks, config))
    return folder


def read_metadata(folder: Path) -> dict[str, Any]:
    """model.json of a saved model, or an InputError saying what is missing."""
    path = Path(folder) / METADATA
    if not path.is_file():
        raise InputError(f"{folder}: no {METADATA} here; not a saved fswap model (save_networks writes one)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: unreadable model metadata ({exc})") from exc
    if data.get("format") != FORMAT_VERSION:
        raise InputError(f"{path}: model format {data.get('format')!r}; this fswap reads {FORMAT_VERSION}")
    return data


def import_components(metadata: dict[str, Any], source: Path) -> None:
    """Import each recorded component's factory module so its Keras layers are registered."""
    allowed = _plugin_packages()
    for path, info in metadata.get("components", {}).items():
        module = str(info["factory"]).partition(":")[0]
        needs = (
            f"{source}: the model's {path} uses {info['kind']} '{info['name']}' from plugin "
            f"'{info['plugin']}' (distribution {info['distribution']} {info['version']}), which is not "
        )
        install = f"install {info['distribution']} to load this model"
        if module.partition(".")[0] not in allowed:  # a model file never makes fswap import other code
            raise PluginError(f"{needs}an installed fswap plugin; {install}")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise PluginError(f"{needs}importable ({exc}); {install}") from exc


def _plugin_packages() -> set[str]:
    """Top-level packages a model file may name: those of enabled `fswap.plugins` entry points and those
    already imported (re-importing them runs no new code; plugins registered in-process live there)."""
    import importlib.metadata as md
    import sys

    from fswap.plugins import ENTRY_POINT_GROUP, disabled_plugins

    off = disabled_plugins()
    names = {
        ep.value.partition(":")[0].partition(".")[0]
        for ep in md.entry_points(group=ENTRY_POINT_GROUP)
        if ep.name not in off
    }
    return names | {name.partition(".")[0] for name in list(sys.modules)}


def load_network(folder: Path, name: str, metadata: dict[str, Any] | None = None) -> keras.Model:
    """Load one network (e.g. "encoder", "decoder_b") with safe_mode=True."""
    folder = Path(folder)
    metadata = metadata if metadata is not None else read_metadata(folder)
    import_components(metadata, folder / METADATA)
    path = folder / metadata.get("files", {}).get(name, f"{name}.keras")
    if not path.is_file():
        raise InputError(f"{path}: missing network file of the saved model")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, TypeError, OSError) as exc:
        raise InputError(f"{path}: cannot load network ({type(exc).__name__}: {exc})") from exc


def load_networks(folder: Path) -> tuple[Networks, dict[str, Any]]:
    """Load the five networks saved by save_networks; returns them with the metadata."""
    folder = Path(folder)
    metadata = read_metadata(folder)
    networks = Networks(
        encoder=load_network(folder, "encoder", metadata),
        decoders={s: load_network(folder, f"decoder_{s}", metadata) for s in SIDES},
        discriminators={s: load_network(folder, f"discriminator_{s}", metadata) for s in SIDES},
        condition_channels=int(metadata.get("condition_channels", 0)),
    )
    return networks, metadata
