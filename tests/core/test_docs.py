"""Documentation that must stay in step with the code: the hook reference and the pipeline.toml reference."""

from __future__ import annotations

import difflib
import importlib.metadata as md
import inspect
import re
from pathlib import Path

import pytest

import fswap.hookspecs
from fswap.catalog import Catalog
from fswap.plugins import make_plugin_manager
from fswap.schema import render_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOOKS_MD = "docs/plugins/hooks.md"
REGENERATE = "run `fswap schema > docs/pipeline-reference.md`"


def hook_specs() -> list[str]:
    """Names of the functions in fswap/hookspecs.py marked as hook specifications."""
    names = [n for n in dir(fswap.hookspecs) if n.startswith("fswap_")]
    return sorted(n for n in names if getattr(getattr(fswap.hookspecs, n), "fswap_spec", None) is not None)


def hook_sections() -> dict[str, str]:
    text = (DOCS / "plugins" / "hooks.md").read_text(encoding="utf-8")
    parts = re.split(r"^### `(fswap_\w+)`\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_there_are_hook_specs_to_document() -> None:
    assert "fswap_register_components" in hook_specs() and len(hook_specs()) >= 5


@pytest.mark.parametrize("hook", hook_specs())
def test_every_hook_spec_is_documented(hook: str) -> None:
    sections = hook_sections()
    assert hook in sections, f"{hook} (fswap/hookspecs.py) has no '### `{hook}`' section in {HOOKS_MD}"
    for part in ("**When:**", "**Arguments:**", "**Returns:**", "**Example:**"):
        assert part in sections[hook], f"{HOOKS_MD}: {hook} lacks {part}"
    for param in inspect.signature(getattr(fswap.hookspecs, hook)).parameters:
        assert f"`{param}`" in sections[hook], f"{HOOKS_MD}: {hook} does not describe its argument `{param}`"


def test_no_documented_hook_is_stale() -> None:
    stale = sorted(set(hook_sections()) - set(hook_specs()))
    assert not stale, f"{HOOKS_MD} documents hooks that fswap/hookspecs.py no longer has: {stale}"


def test_pipeline_reference_is_up_to_date() -> None:
    try:
        md.distribution("fswap-plugin-example")
    except md.PackageNotFoundError:
        pytest.fail(
            "the reference documents the example plugin too; install it first as `make test` does: "
            "pip install --no-build-isolation --no-deps -e examples/fswap-plugin-example"
        )
    expected = render_reference(Catalog.from_plugin_manager(make_plugin_manager(environ={})))
    committed = (DOCS / "pipeline-reference.md").read_text(encoding="utf-8")
    if committed != expected:
        old, new = committed.splitlines(True), expected.splitlines(True)
        lines = difflib.unified_diff(old, new, "committed", "generated now")
        diff = "".join(list(lines)[:40])
        pytest.fail(f"docs/pipeline-reference.md is out of date: {REGENERATE}\n{diff}")


def test_contracts_reference_is_generated_from_the_code() -> None:
    from fswap.plugin_docs import contracts_markdown

    committed = (DOCS / "plugins" / "contracts.md").read_text(encoding="utf-8")
    generated = contracts_markdown()
    if committed != generated:
        lines = difflib.unified_diff(committed.splitlines(True), generated.splitlines(True), "committed",
                                     "generated now")
        diff = "".join(list(lines)[:40])
        pytest.fail("docs/plugins/contracts.md is out of date: run `fswap docs contracts > "
                    f"docs/plugins/contracts.md`\n{diff}")


def test_contracts_reference_covers_every_kind_and_member() -> None:
    from fswap.kinds import KINDS
    from fswap.plugin_docs import _members, contracts_markdown

    text = contracts_markdown()
    for row in KINDS:
        assert f"## `{row.kind}`" in text
        for name, _ in _members(row.protocol):
            assert f"**`{name}" in text, f"{row.kind}: member {name} is not documented"
    for field in ("warped", "bgr", "masked", "eye_mask", "latent"):
        assert f"| `{field}` |" in text
