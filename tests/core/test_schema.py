"""The generated pipeline.toml reference: stage tables, nested tables, components with providers."""

from __future__ import annotations

import attrs
from fswap_core_toys import TOY_STAGES, ToyDetectorConfig, ToyExtractConfig, toy_catalog

from fswap import option
from fswap.schema import option_rows, render_reference
from fswap.stages import StageInfo


def rows_by_name(cls: type, catalog: object = None) -> dict[str, dict]:
    return {row["name"]: row for row in option_rows(cls, catalog)}  # type: ignore[arg-type]


def test_option_rows_describe_type_default_and_help() -> None:
    rows = rows_by_name(ToyExtractConfig)
    assert rows["every_n_frames"] == {
        "name": "every_n_frames", "type": "an integer", "default": "1", "help": "Use every n-th frame."
    }
    assert rows["a"]["default"] == "(a table; see below)" and rows["a"]["type"] == "a table"
    assert rows["detector"]["type"] == "detector component"
    # a component's default is the one the installed plugins declare for the slot's role
    assert rows["detector"]["default"] == "(the installed default detector)"
    assert rows_by_name(ToyExtractConfig, toy_catalog())["detector"]["default"] == \
        'use = "mtcnn" (the installed default detector)'
    assert rows["tracker"]["default"] == "(not used unless given)"
    assert rows_by_name(ToyDetectorConfig)["weights"]["type"] == "a path (optional)"


def test_factory_defaults_are_shown_by_value() -> None:
    @attrs.frozen
    class WithFactory:
        sizes: list[int] = option(factory=lambda: [1, 2], help="Sizes.")

    assert rows_by_name(WithFactory)["sizes"]["default"] == "[1, 2]"


@attrs.frozen
class Row:
    start: float = option(0.0, help="Start.")
    off: tuple[str, ...] = option((), help="Off.")


@attrs.frozen(kw_only=True)
class WithRows:
    rows: tuple[Row, ...] = option((Row(), Row(0.5, ("x",))), help="Rows.")
    required: int = option(help="Required.")


def test_table_defaults_are_shown_as_inline_values_and_required_options_marked() -> None:
    rows = rows_by_name(WithRows)
    assert rows["rows"]["default"] == '[{"start": 0.0, "off": []}, {"start": 0.5, "off": ["x"]}]'
    assert rows["required"]["default"] == "(required)"


def test_render_reference_covers_stages_nested_tables_and_components() -> None:
    text = render_reference(toy_catalog(), TOY_STAGES)
    assert text.startswith("# pipeline.toml reference\n")
    assert text.endswith("\n") and not text.endswith("\n\n")
    for heading in ("## [extract]", "### [extract.a]", "## [train]", "## detector", "## loss"):
        assert f"\n{heading}\n" in text
    assert "| `every_n_frames` | an integer | `1` | Use every n-th frame. |" in text
    assert "| `losses` | tables of loss components | `reconstruction` | Loss terms. |" in text
    assert "### `mtcnn` (aliases: mtcnn_v1) — fswap-toy 0.3" in text
    assert "| `min_face_size` | an integer | `20` | Smallest face in pixels. |" in text
    assert "## embedder" not in text  # kinds without components are left out
    assert text.index("## [extract]") < text.index("## [train]") < text.index("# Components")


@attrs.frozen
class Piped:
    mode: str = option("a", help="either a | b")


def test_pipes_in_help_are_escaped_in_tables() -> None:
    stage = StageInfo(name="piped", config=f"{__name__}:Piped", runner="x:y", summary="Piped stage.")
    text = render_reference(toy_catalog(), (stage,))
    assert "| `mode` | a string | `'a'` | either a \\| b |" in text
    assert "\nPiped stage.\n" in text
