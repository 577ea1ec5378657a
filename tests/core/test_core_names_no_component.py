"""The core knows kinds of components, never concrete ones: which detector, loss or recipe a pipeline uses
when it names none is declared by the plugins (`default_for`), so a third party can ship a complete set.

Two checks: no string in fswap/ (docstrings aside) is the name of a built-in component, except the words
listed below where they mean something else; and a catalog of *other* components, declared default by a
stand-in plugin, fills every slot of a pipeline that names none.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path
from typing import Any

import attrs

import fswap
from fswap import NoOptions, declare
from fswap.catalog import Catalog
from fswap.components import ComponentChoice, Kind, Provider
from fswap.config import load_pipeline
from fswap.options import option
from fswap.plugins import make_plugin_manager

ROOT = Path(fswap.__file__).parent

NOT_CORE = {
    "examples.py": "helpers of the example notebooks: user-level pipelines that name what they choose",
}
OTHER_MEANINGS = {
    "none": "the word for 'no X' in many options (mask = \"none\", dedupe, …)",
    "video": "an input kind and a dedupe policy",
    "reconstruction": "a metric and a preview row",
    "ssim": "a metric",
    "alpha": "the mask tensor's name",
    "batch": "the word",
    "layer": "the word",
    "eyes": "a face part",
    "feather": "a blend method of the look-alike augmentation (fswap.data.lookalike_config)",
    "poisson": "a blend method of the look-alike augmentation (fswap.data.lookalike_config)",
    "reference": "an extract side's reference photo",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            found.add(id(body[0].value))
    return found


def test_no_core_module_names_a_built_in_component() -> None:
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    names = {n for entry in catalog for n in (entry.spec.name, *entry.spec.aliases)}
    assert {"mtcnn", "kalman", "fast", "mask_hinge", "vggface", "eyes5"} <= names  # the scan sees them
    hits = []
    files = sorted(p for p in ROOT.rglob("*.py") if str(p.relative_to(ROOT)) not in NOT_CORE)
    assert len(files) > 100
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                    and node.value in names and node.value not in OTHER_MEANINGS:
                hits.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} names '{node.value}'")
    assert hits == []


# -- a stand-in plugin whose components are the defaults ------------------------------------------------

ROLES = {  # slot role → kind (every role a stage config asks the catalog for)
    "detector": Kind.DETECTOR, "aligner": Kind.ALIGNER, "landmarks": Kind.ALIGNER,
    "mask_generator": Kind.MASK_GENERATOR, "eye_mask": Kind.MASK_GENERATOR, "embedder": Kind.EMBEDDER,
    "tracker": Kind.TRACKER, "normalization": Kind.NORMALIZATION, "attention": Kind.ATTENTION,
    "upsampling": Kind.UPSAMPLING, "color_transfer": Kind.COLOR_TRANSFER, "blender": Kind.BLENDER,
    "writer": Kind.WRITER, "recipe": Kind.RECIPE,
}


@attrs.frozen(kw_only=True)
class StandInLoss:
    weight: float = option(1.0, help="Weight.")


def stand_in_recipe(_config: Any) -> Any:
    return types.SimpleNamespace(table={"losses": {"other_l1": {"weight": 2.0}}, "batch_size": 4})


def _stand_in_catalog() -> Catalog:
    catalog = Catalog()
    provider = Provider("other", "fswap-other", "1.0")
    by_kind: dict[Kind, list[str]] = {}
    for role, kind in ROLES.items():
        by_kind.setdefault(kind, []).append(role)
    for kind, roles in by_kind.items():
        @declare(kind, f"other_{kind}", factory=f"{__name__}:stand_in_recipe", default_for=roles)
        class Options(NoOptions):
            """A stand-in."""

        catalog.add(Options.__fswap_component__, provider)
    loss = declare(Kind.LOSS, "other_l1", factory=f"{__name__}:stand_in_recipe")(
        type("OtherL1", (StandInLoss,), {"__doc__": "A stand-in loss."}))
    catalog.add(loss.__fswap_component__, provider)
    return catalog


def _choices(value: Any) -> list[ComponentChoice]:
    """Every ComponentChoice inside a config object (nested tables and lists included)."""
    if isinstance(value, ComponentChoice):
        return [value, *_choices(value.config)]
    if isinstance(value, tuple | list):
        return [c for item in value for c in _choices(item)]
    if attrs.has(type(value)):
        return [c for f in attrs.fields(type(value)) for c in _choices(getattr(value, f.name))]
    return []


def test_a_pipeline_naming_no_component_takes_every_default_from_the_plugins(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "b.mp4").write_bytes(b"")
    (tmp_path / "pipeline.toml").write_text(
        '[extract]\na.input = "a.mp4"\nb.input = "b.mp4"\n[train]\niterations = 2\n'
        '[convert]\ninput = "a.mp4"\n[evaluate]\n', encoding="utf-8")
    pipeline = load_pipeline(tmp_path / "pipeline.toml", catalog=_stand_in_catalog())
    used = [c for stage in ("extract", "train", "convert", "evaluate")
            for c in _choices(pipeline.stage(stage))]
    assert {c.spec.name for c in used} == {
        "other_detector", "other_aligner", "other_mask_generator", "other_tracker", "other_normalization",
        "other_attention", "other_upsampling", "other_color_transfer", "other_blender", "other_writer",
        "other_embedder", "other_l1"}
    assert all(c.provider.distribution == "fswap-other" for c in used)
    train = pipeline.stage("train")
    assert (train.recipe, train.batch_size, train.losses[0].config.weight) == ("other_recipe", 4, 2.0)
    assert train.eye_mask_name(_stand_in_catalog()) == "other_mask_generator"
    evaluate = pipeline.stage("evaluate")
    assert evaluate.landmarks.name == "other_aligner"  # the stand-in aligner is also the landmarks default


def test_a_slot_written_with_its_default_name_gets_the_migration() -> None:
    """A config class from before (the slot naming its default component) fails at import with the fix."""
    import pytest

    from fswap.options import component, component_list

    with pytest.raises(TypeError, match=r"fswap.component\('detector', 'mtcnn', …\): a slot no longer names "
                                        r"its default; .*default_for=\['detector'\]"):
        component("detector", "mtcnn", help="Face detector.")
    with pytest.raises(TypeError, match=r"optional=True"):
        component("tracker", None, help="Optional tracker.")
    with pytest.raises(TypeError, match=r"fswap.component_list\('loss', \('edge',\), …\)"):
        component_list("loss", ("edge",), help="Loss terms.")
