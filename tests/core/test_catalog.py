"""The catalog: indexing by kind and name, aliases, duplicates, did-you-mean, hook validation, providers."""

from __future__ import annotations

import attrs
import pytest
from fswap_core_toys import TOY_PROVIDER, EmptyConfig

import fswap
from fswap import ComponentSpec, Kind, Provider
from fswap.catalog import Catalog
from fswap.errors import ComponentNotFoundError, PluginError
from fswap.plugins import DISABLE_ENV, _entry_points, make_plugin_manager


def spec(kind: str, name: str, aliases: tuple[str, ...] = ()) -> ComponentSpec:
    return ComponentSpec(kind=kind, name=name, factory="pkg.mod:Cls", config=EmptyConfig, aliases=aliases)


OTHER = Provider("other", "fswap-other", "2.0")


class Registers:
    """A plugin object whose registration hook returns what it was given."""

    def __init__(self, components: object = ()) -> None:
        self._components = components

    @fswap.hookimpl
    def fswap_register_components(self) -> object:
        return self._components


def catalog_of(*plugins: tuple[str, object]) -> Catalog:
    installed = ",".join(ep.name for ep in _entry_points())  # only the plugins given here
    pm = make_plugin_manager(extra_plugins=plugins, environ={DISABLE_ENV: installed})
    return Catalog.from_plugin_manager(pm)


def test_get_by_name_and_alias(toy_catalog: Catalog) -> None:
    entry = toy_catalog.get("detector", "mtcnn")
    assert entry.spec.name == "mtcnn" and entry.provider == TOY_PROVIDER
    assert toy_catalog.get(Kind.DETECTOR, "mtcnn_v1") is entry
    assert ("detector", "mtcnn_v1") in toy_catalog
    assert ("aligner", "mtcnn") not in toy_catalog


def test_names_are_sorted_per_kind_and_exclude_aliases(toy_catalog: Catalog) -> None:
    assert toy_catalog.names("detector") == ["mtcnn", "retina"]
    assert toy_catalog.names(Kind.EMBEDDER) == []


def test_iteration_goes_kind_by_kind_in_kind_order(toy_catalog: Catalog) -> None:
    kinds = [entry.spec.kind for entry in toy_catalog]
    order = list(Kind)
    assert kinds == sorted(kinds, key=order.index)
    assert [e.spec.name for e in toy_catalog if e.spec.kind == Kind.LOSS] == ["edge", "reconstruction"]


def test_unknown_name_lists_available_with_providers_and_suggests_close_match(toy_catalog: Catalog) -> None:
    with pytest.raises(ComponentNotFoundError) as info:
        toy_catalog.get("detector", "mtcn", where="pipeline.toml [extract.detector]")
    assert str(info.value) == (
        "pipeline.toml [extract.detector]: no detector named 'mtcn'. "
        "Available: mtcnn (fswap-toy 0.3), retina (fswap-toy 0.3). Did you mean 'mtcnn'?"
    )


def test_close_match_on_an_alias_suggests_the_canonical_name(toy_catalog: Catalog) -> None:
    with pytest.raises(ComponentNotFoundError, match=r"Did you mean 'mtcnn'\?"):
        toy_catalog.get("detector", "mtcnn_v2")


def test_no_suggestion_when_nothing_is_close(toy_catalog: Catalog) -> None:
    with pytest.raises(ComponentNotFoundError) as info:
        toy_catalog.get("detector", "zzzz")
    assert "Did you mean" not in str(info.value)


def test_name_of_another_kind_is_pointed_out(toy_catalog: Catalog) -> None:
    with pytest.raises(ComponentNotFoundError) as info:
        toy_catalog.get("detector", "umeyama5")
    assert str(info.value).endswith("Available: mtcnn (fswap-toy 0.3), retina (fswap-toy 0.3). "
                                    "'umeyama5' is an aligner, not a detector.")


def test_empty_kind_says_none_installed(toy_catalog: Catalog) -> None:
    with pytest.raises(ComponentNotFoundError, match="Available: none installed"):
        toy_catalog.get("embedder", "arcface")


def test_unknown_kind_is_a_value_error(toy_catalog: Catalog) -> None:
    with pytest.raises(ValueError):
        toy_catalog.get("detektor", "mtcnn")


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        (spec("detector", "mtcnn"), spec("detector", "mtcnn"), "mtcnn"),
        (spec("detector", "mtcnn", ("fast",)), spec("detector", "fast"), "fast"),
        (spec("detector", "fast"), spec("detector", "mtcnn", ("fast",)), "fast"),
        (spec("detector", "a", ("x",)), spec("detector", "b", ("x",)), "x"),
    ],
)
def test_duplicate_names_and_aliases_name_both_providers(first, second, clash) -> None:
    catalog = Catalog()
    catalog.add(first, TOY_PROVIDER)
    with pytest.raises(PluginError) as info:
        catalog.add(second, OTHER)
    message = str(info.value)
    assert f"detector name '{clash}' is registered twice" in message
    assert "fswap-toy 0.3" in message and "fswap-other 2.0" in message
    assert DISABLE_ENV in message


def test_same_name_in_different_kinds_is_fine() -> None:
    catalog = Catalog()
    catalog.add(spec("detector", "same"), TOY_PROVIDER)
    catalog.add(spec("aligner", "same"), OTHER)
    assert catalog.get("aligner", "same").provider == OTHER


def test_from_plugin_manager_records_each_plugins_provider() -> None:
    catalog = catalog_of(
        ("one", Registers([spec("detector", "d1")])),
        ("two", Registers([spec("detector", "d2"), spec("attention", "sa")])),
    )
    assert catalog.get("detector", "d1").provider.plugin == "one"
    assert catalog.get("detector", "d2").provider.plugin == "two"
    assert catalog.get("attention", "sa").provider.plugin == "two"


def test_duplicates_across_plugins_through_hooks() -> None:
    with pytest.raises(PluginError, match=r"registered twice: by one .*plugin 'one'.* by two .*plugin 'two'"):
        catalog_of(
            ("one", Registers([spec("detector", "d")])),
            ("two", Registers([spec("detector", "d")])),
        )


def test_one_hook_registers_every_kind() -> None:
    specs = [spec("detector", "d"), spec("attention", "a"), spec("loss", "l")]
    catalog = catalog_of(("all", Registers(specs)))
    assert [catalog.names(kind) for kind in ("detector", "attention", "loss")] == [["d"], ["a"], ["l"]]


def test_hook_returning_something_else_than_specs_is_rejected() -> None:
    with pytest.raises(PluginError, match=r"'odd' \(odd local\) returned tuple from fswap_register_comp"):
        catalog_of(("odd", Registers([("detector", "d")])))


def test_hook_returning_a_single_spec_instead_of_a_list_is_rejected() -> None:
    with pytest.raises(PluginError, match=r"returned ComponentSpec from fswap_register_components; expected"):
        catalog_of(("odd", Registers(spec("detector", "d"))))


def test_hook_returning_none_registers_nothing() -> None:
    catalog = catalog_of(("quiet", Registers(None)))
    assert catalog.names("detector") == []


def test_hook_that_raises_names_plugin_and_switch() -> None:
    class Raises:
        @fswap.hookimpl
        def fswap_register_components(self) -> list:
            raise RuntimeError("missing data file")

    with pytest.raises(PluginError) as info:
        catalog_of(("boom", Raises()))
    message = str(info.value)
    assert "plugin 'boom'" in message and "fswap_register_components" in message
    assert "missing data file" in message and f"{DISABLE_ENV}=boom" in message


def test_component_spec_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="lower_snake_case"):
        spec("detector", "Bad-Name")
    with pytest.raises(ValueError, match=r"package\.module:Attribute"):
        ComponentSpec(kind="detector", name="ok", factory="no_colon", config=EmptyConfig)
    with pytest.raises(ValueError, match="must be an attrs class"):
        ComponentSpec(kind="detector", name="ok", factory="a:b", config=dict)
    with pytest.raises(ValueError):
        ComponentSpec(kind="detektor", name="ok", factory="a:b", config=EmptyConfig)


def test_load_factory_imports_lazily_and_wraps_failures() -> None:
    ok = ComponentSpec(kind="tracker", name="t", factory="fswap_standard.trackers:PassThroughTracker",
                       config=EmptyConfig)
    assert ok.load_factory().__name__ == "PassThroughTracker"
    missing = ComponentSpec(kind="tracker", name="t", factory="no_such_module_xyz:Cls", config=EmptyConfig)
    with pytest.raises(PluginError, match="tracker 't': cannot import its factory no_such_module_xyz:Cls"):
        missing.load_factory()
    bad_attr = attrs.evolve(ok, factory="fswap_standard.trackers:Nope")
    with pytest.raises(PluginError, match="AttributeError"):
        bad_attr.load_factory()
