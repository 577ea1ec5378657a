"""TOML tables → frozen attrs configs: types, Literal, tuples, paths, nested tables, components, messages."""


from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, Literal

import attrs
import hypothesis.strategies as st
import pytest
from fswap_core_toys import TOY_PROVIDER, ToyDetectorConfig, ToyExtractConfig, ToyTrainConfig, toy_catalog
from hypothesis import HealthCheck, given, settings

from fswap import ComponentChoice, option
from fswap.errors import ComponentNotFoundError, ConfigError
from fswap.options import at_least, at_most, between, length, one_of
from fswap.structure import Context, describe_type, structure, unstructure


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen(kw_only=True)
class Inner:
    depth: int = option(2, help="Depth.", validator=between(1, 4))


@attrs.frozen(kw_only=True)
class Everything:
    flag: bool = option(False, help="A boolean.")
    count: int = option(3, help="An int.", validator=[at_least(0), at_most(10)])
    scale: float = option(1.0, help="A float.")
    name: str = option("x", help="A string.")
    mode: Literal["fast", "slow"] = option("fast", help="A Literal.")
    level: Literal[1, 2] = option(1, help="An int Literal.")
    pair: tuple[int, float] = option((1, 2.0), help="Fixed tuple.")
    many: tuple[str, ...] = option((), help="Variable tuple.")
    items: list[int] = option(factory=list, help="A list.")
    table: dict[str, float] = option(factory=dict, help="A table of numbers.")
    colour: Colour = option(Colour.RED, help="An enum.")
    path: Path | None = option(None, help="An optional path.")
    maybe: int | None = option(None, help="Optional int.")
    inner: Inner = option(help="A nested table filled from defaults.")
    three: tuple[float, ...] = option((0.1, 0.2, 0.3), help="Three floats.", validator=length(3))
    choice: str = option("a", help="One of a, b.", validator=one_of(("a", "b")))
    anything: Any = option(None, help="Anything.")


P = "pipeline.toml [sec]: "


def build(data: dict, cls: type = Everything, base: Path | None = None, catalog: Any = None) -> Any:
    ctx = Context(source="pipeline.toml", base_dir=base or Path("/base"), catalog=catalog)
    return structure(cls, data, ctx=ctx, section="sec")


def test_defaults_and_nested_table_from_defaults() -> None:
    value = build({})
    assert value == Everything(inner=Inner())
    assert value.inner.depth == 2
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        value.count = 4  # type: ignore[misc]


def test_every_type_converts() -> None:
    value = build(
        {
            "flag": True, "count": 7, "scale": 2, "name": "n", "mode": "slow", "level": 2,
            "pair": [4, 5], "many": ["a", "b"], "items": [1, 2], "table": {"x": 1, "y": 0.5},
            "colour": "blue", "path": "sub/file.bin", "maybe": 3, "inner": {"depth": 4},
            "three": [1, 2, 3.5], "choice": "b", "anything": {"k": [1]},
        }
    )
    assert value.scale == 2.0 and isinstance(value.scale, float)
    assert value.pair == (4, 5.0) and isinstance(value.pair[1], float)
    assert value.many == ("a", "b") and value.items == [1, 2]
    assert value.table == {"x": 1.0, "y": 0.5}
    assert value.colour is Colour.BLUE
    assert value.path == Path("/base/sub/file.bin")
    assert value.inner == Inner(depth=4)
    assert value.three == (1.0, 2.0, 3.5)
    assert value.anything == {"k": [1]}


def test_relative_paths_resolve_against_the_toml_folder_absolute_and_home_kept(tmp_path: Path) -> None:
    assert build({"path": "../x.png"}, base=tmp_path / "proj").path == (tmp_path / "x.png")
    assert build({"path": "/abs/x.png"}).path == Path("/abs/x.png")
    assert build({"path": "~/x.png"}).path == Path.home() / "x.png"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"flag": 1}, P + "flag must be a boolean, received 1"),
        ({"count": True}, P + "count must be an integer, received True"),
        ({"count": 1.5}, P + "count must be an integer, received 1.5"),
        ({"scale": "big"}, P + "scale must be a number, received 'big'"),
        ({"scale": float("nan")}, P + "scale must be a number, received nan"),
        ({"mode": "medium"}, P + "mode must be one of 'fast', 'slow', received 'medium'"),
        ({"level": True}, P + "level must be one of 1, 2, received True"),
        ({"pair": [1]}, P + "pair must be a list of 2 items (an integer, a number), received [1]"),
        ({"many": "ab"}, P + "many must be a list of (a string), received 'ab'"),
        ({"table": {"x": "y"}}, P + "table must be a table of (a number), received {'x': 'y'}"),
        ({"colour": "green"}, P + "colour must be one of 'red', 'blue', received 'green'"),
        ({"path": ""}, P + "path must be a path (optional), received ''"),
        ({"maybe": "3"}, P + "maybe must be an integer (optional), received '3'"),
        ({"inner": 3}, P + "inner must be a table, received 3"),
    ],
)
def test_type_errors_name_the_section_option_and_expected_type(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(data)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"count": -1}, P + "count must be ≥ 0, received -1"),
        ({"count": 11}, P + "count must be ≤ 10, received 11"),
        ({"inner": {"depth": 9}}, "pipeline.toml [sec.inner]: depth must be between 1 and 4, received 9"),
        ({"three": [1, 2]}, P + "three must have 3 items, received 2"),
        ({"choice": "c"}, P + "choice must be one of 'a', 'b', received 'c'"),
    ],
)
def test_validator_messages_carry_the_section_path(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(data)
    assert str(info.value) == message


def test_unknown_keys_list_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        build({"inner": {"dept": 1}})
    expected = "pipeline.toml [sec.inner]: unknown option 'dept'; valid: depth. Did you mean 'depth'?"
    assert str(info.value) == expected
    with pytest.raises(ConfigError, match=r"unknown options 'a', 'b'; valid: flag, count, scale"):
        build({"a": 1, "b": 2})


def test_not_a_table() -> None:
    with pytest.raises(ConfigError, match=r"pipeline.toml \[sec\]: expected a table, received 5"):
        build(5)  # type: ignore[arg-type]


# -- components ---------------------------------------------------------------------------------------


def extract(data: dict, base: Path | None = None) -> ToyExtractConfig:
    data = {"a": {"input": "in/a.mp4"}, **data}
    ctx = Context(source="pipeline.toml", base_dir=base or Path("/proj"), catalog=toy_catalog())
    return structure(ToyExtractConfig, data, ctx=ctx, section="extract")


def test_component_defaults_are_used_when_tables_are_absent() -> None:
    config = extract({})
    assert isinstance(config.detector, ComponentChoice)
    assert config.detector.name == "mtcnn" and config.detector.config == ToyDetectorConfig()
    assert config.detector.provider == TOY_PROVIDER and config.detector.section == "extract.detector"
    assert config.aligner.name == "umeyama5"
    assert config.tracker is None  # optional component without default
    assert config.a.input == Path("/proj/in/a.mp4")
    assert config.b is None


def test_component_table_with_options_and_alias() -> None:
    config = extract({"detector": {"use": "mtcnn_v1", "min_face_size": 40, "weights": "w/m.bin"}})
    assert config.detector.name == "mtcnn"
    assert config.detector.config.min_face_size == 40
    assert config.detector.config.weights == Path("/proj/w/m.bin")


def test_component_table_without_use_configures_the_default() -> None:
    assert extract({"detector": {"min_face_size": 30}}).detector.config.min_face_size == 30


def test_optional_component_needs_use() -> None:
    with pytest.raises(ConfigError) as info:
        extract({"tracker": {}})
    assert str(info.value) == (
        'pipeline.toml [extract.tracker]: missing use = "<tracker name>"; available: kalman'
    )
    assert extract({"tracker": {"use": "kalman"}}).tracker.name == "kalman"


def test_misspelt_component_name_suggests_the_right_one() -> None:
    with pytest.raises(ComponentNotFoundError) as info:
        extract({"detector": {"use": "mtcn"}})
    assert str(info.value) == (
        "pipeline.toml [extract.detector]: no detector named 'mtcn'. "
        "Available: mtcnn (fswap-toy 0.3), retina (fswap-toy 0.3). Did you mean 'mtcnn'?"
    )


def test_misspelt_component_option_names_the_component_and_valid_options() -> None:
    with pytest.raises(ConfigError) as info:
        extract({"detector": {"use": "mtcnn", "min_face_sise": 40}})
    assert str(info.value) == (
        "pipeline.toml [extract.detector] (mtcnn): unknown option 'min_face_sise'; "
        "valid: min_face_size, thresholds, weights. Did you mean 'min_face_size'?"
    )


def test_bad_component_value_names_the_component() -> None:
    with pytest.raises(ConfigError) as info:
        extract({"detector": {"min_face_size": -1}})
    expected = "pipeline.toml [extract.detector] (mtcnn): min_face_size must be ≥ 8, received -1"
    assert str(info.value) == expected


def test_component_given_as_a_string_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r'\[extract.detector\]: expected a table with use = "<detector>"'):
        extract({"detector": "mtcnn"})


def test_required_nested_table_missing_is_an_error() -> None:
    ctx = Context(catalog=toy_catalog())
    with pytest.raises(ConfigError) as info:
        structure(ToyExtractConfig, {}, ctx=ctx, section="extract")
    assert str(info.value) == (
        "pipeline.toml [extract.a]: missing required option 'input' (a path) (Video, image folder or glob.)"
    )


def train(data: dict) -> ToyTrainConfig:
    ctx = Context(catalog=toy_catalog())
    return structure(ToyTrainConfig, data, ctx=ctx, section="train")


def test_component_list_defaults_and_tables() -> None:
    assert [c.name for c in train({}).losses] == ["reconstruction"]
    config = train({"losses": {"edge": {"weight": 0.5}, "reconstruction": {}}})
    assert [(c.name, c.config.weight, c.section) for c in config.losses] == [
        ("edge", 0.5, "train.losses.edge"),
        ("reconstruction", 1.0, "train.losses.reconstruction"),
    ]
    renamed = train({"losses": {"edge2": {"use": "edge", "weight": 2}}})
    assert renamed.losses[0].name == "edge" and renamed.losses[0].section == "train.losses.edge2"
    assert train({"losses": {}}).losses == ()


def test_component_list_errors() -> None:
    with pytest.raises(ComponentNotFoundError, match=r"\[train.losses.edeg\]: no loss named 'edeg'.*'edge'"):
        train({"losses": {"edeg": {}}})
    with pytest.raises(ConfigError, match=r"\[train.losses.edge\]: expected a table \[train.losses.edge\]"):
        train({"losses": {"edge": 3}})
    with pytest.raises(ConfigError, match=r"\[train.losses\]: expected tables like \[train.losses.<name>\]"):
        train({"losses": ["edge"]})
    with pytest.raises(ConfigError, match=r"\(edge\): weight must be ≥ 0.0, received -1.0"):
        train({"losses": {"edge": {"weight": -1}}})


def test_components_without_a_catalog_are_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no plugin catalog available"):
        structure(ToyTrainConfig, {}, ctx=Context(), section="train")


def test_unstructure_round_trips_to_plain_data() -> None:
    config = extract({"detector": {"min_face_size": 30}})
    data = unstructure(config)
    assert data["detector"] == {
        "use": "mtcnn", "min_face_size": 30, "thresholds": [0.6, 0.7, 0.7], "weights": None
    }
    assert data["a"] == {"input": "/proj/in/a.mp4"}
    assert unstructure(build({"colour": "blue"}))["colour"] == "blue"


def test_describe_type() -> None:
    assert describe_type(int | None) == "an integer (optional)"
    assert describe_type(tuple[int, ...]) == "a list of (an integer)"
    assert describe_type(Literal["a", "b"]) == "one of 'a', 'b'"
    assert describe_type(Inner) == "a table"
    assert describe_type(Colour) == "one of 'red', 'blue'"


# -- property: random tables never crash with anything but ConfigError -------------------------------------

toml_scalars = st.one_of(
    st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True), st.text(max_size=12),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from([f.name for f in attrs.fields(Everything)] + ["bogus", "use", ""])
tables = st.dictionaries(field_names, toml_values, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_random_tables_only_ever_raise_config_error(data: dict) -> None:
    try:
        value = build(data)
    except ConfigError as exc:
        assert str(exc).startswith("pipeline.toml [sec")
        assert "\n" not in str(exc)
    else:
        assert isinstance(value, Everything)


component_names = st.sampled_from(["mtcnn", "retina", "mtcn", "", "kalman", "umeyama5"])
component_tables = st.one_of(
    st.none(),
    toml_values,
    st.fixed_dictionaries(
        {"use": st.one_of(component_names, toml_scalars)}, optional={"min_face_size": toml_values}
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "detector": component_tables, "tracker": component_tables, "every_n_frames": toml_values,
            "a": st.one_of(toml_values, st.fixed_dictionaries({"input": toml_values})), "policy": toml_values,
        },
    )
)
def test_random_stage_tables_with_components_only_raise_config_error(data: dict) -> None:
    data = {k: v for k, v in data.items() if v is not None}
    ctx = Context(catalog=toy_catalog(), base_dir=Path("/proj"))
    try:
        value = structure(ToyExtractConfig, data, ctx=ctx, section="extract")
    except ConfigError as exc:
        assert "[extract" in str(exc)
    else:
        assert isinstance(value, ToyExtractConfig)
