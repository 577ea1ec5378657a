"""Random pipeline tables against the real stages and installed components: only one-line ConfigErrors."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from fswap.catalog import Catalog
from fswap.config import parse_pipeline
from fswap.errors import ConfigError
from fswap.plugins import make_plugin_manager
from fswap.stages import STAGES

CATALOG = Catalog.from_plugin_manager(make_plugin_manager())
SOURCE = Path("/nonexistent/project/pipeline.toml")

scalars = st.one_of(
    st.booleans(), st.integers(-(2**31), 2**31), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10), st.sampled_from(["mtcnn", "umeyama5", "eyes5", "kalman", "a_to_b", "inputs/a.mp4"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def option_names(cls: type) -> list[str]:
    import attrs

    return [f.name for f in attrs.fields(cls)]


def stage_tables(info) -> st.SearchStrategy:  # type: ignore[no-untyped-def]
    names = option_names(info.config_class())
    keys = st.sampled_from([*names, "use", "bogus"])
    sub_tables = st.dictionaries(st.sampled_from(["use", "input", "weight"]), values, max_size=2)
    return st.dictionaries(keys, st.one_of(values, sub_tables), max_size=4)


pipelines = st.fixed_dictionaries(
    {},
    optional={
        **{info.name: stage_tables(info) for info in STAGES},
        "workdir": values, "seed": values,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipelines)
def test_random_pipelines_only_raise_one_line_config_errors(data: dict) -> None:
    try:
        parse_pipeline(data, source=SOURCE, catalog=CATALOG)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("pipeline.toml"), message
        assert "\n" not in message, message
