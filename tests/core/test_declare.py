"""Declaring a component once: @fswap.declare on its config class, fswap.declared(modules) in the hook, and
the kinds table every kind's registration, build check and docs come from."""

from __future__ import annotations

import sys
import types

import attrs
import pytest

import fswap
from fswap import Kind
from fswap.declaration import spec_of, summary_of
from fswap.errors import PluginError
from fswap.kinds import BY_KIND, KINDS, info, missing_members


def module_with(name: str, **values: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in values.items():
        if isinstance(value, type) and value.__module__ != "builtins":
            value.__module__ = name
        setattr(module, key, value)
    return module


def test_declare_makes_the_spec_from_the_class_and_its_docstring() -> None:
    @fswap.declare("blender", "paste", factory="pkg.blend:Paste", aliases=("copy",))
    @attrs.frozen
    class PasteConfig:
        """Pastes the face without feathering.

        A second paragraph that is not part of the summary.
        """

        width: int = fswap.option(3, help="Unused width.")

    spec = spec_of(PasteConfig)
    assert (spec.kind, spec.name, spec.factory, spec.config, spec.aliases) == (
        Kind.BLENDER, "paste", "pkg.blend:Paste", PasteConfig, ("copy",))
    assert spec.summary == "Pastes the face without feathering."


def test_a_no_options_component_subclasses_the_one_no_options_base() -> None:
    @fswap.declare("tracker", "frozen_in_place", factory="pkg.track:Still")
    class StillOptions(fswap.NoOptions):
        """Keeps the first detection for
        every frame."""

    spec = spec_of(StillOptions)
    assert spec.summary == "Keeps the first detection for every frame."
    assert attrs.fields(StillOptions) == () and spec_of(fswap.NoOptions) is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        StillOptions().x = 1  # type: ignore[attr-defined]


def test_a_subclass_of_a_declared_class_is_not_that_component() -> None:
    @fswap.declare("loss", "base_term", factory="pkg.loss:Base")
    @attrs.frozen
    class BaseTerm:
        """Base."""

        weight: float = fswap.option(1.0, help="Weight.")

    class Derived(BaseTerm):
        """Derived, undeclared."""

    assert spec_of(Derived) is None and spec_of(BaseTerm).name == "base_term"


@pytest.mark.parametrize(("kwargs", "target", "message"), [
    ({"kind": "detektor"}, None, "'detektor' is not a valid Kind"),
    ({"name": "Bad-Name"}, None, "lower_snake_case"),
    ({"factory": "no_colon"}, None, r"package\.module:Attribute"),
    ({}, dict, "must be an attrs class"),
])
def test_a_broken_declaration_fails_where_it_is_written(kwargs: dict, target: type | None,
                                                        message: str) -> None:
    args = {"kind": "detector", "name": "ok", "factory": "a.b:C", **kwargs}

    @attrs.frozen
    class Target:
        """T."""

    with pytest.raises(ValueError, match=message) as raised:
        fswap.declare(args.pop("kind"), args.pop("name"), **args)(target or Target)
    assert "@fswap.declare on " in str(raised.value)


def test_one_class_declares_one_component() -> None:
    @fswap.declare("detector", "first", factory="a.b:C")
    class Once(fswap.NoOptions):
        """Once."""

    with pytest.raises(ValueError, match="already declared as detector 'first'; give each component its own"):
        fswap.declare("detector", "second", factory="a.b:C")(Once)


def test_declared_collects_a_modules_own_declarations_in_order() -> None:
    @fswap.declare("loss", "zeta", factory="a.b:Z")
    class Zeta(fswap.NoOptions):
        """Z."""

    @fswap.declare("loss", "alpha", factory="a.b:A")
    class Alpha(fswap.NoOptions):
        """A."""

    mine = module_with("fswap_toy_declared", Zeta=Zeta, Alpha=Alpha, Plain=int)
    imported = module_with("fswap_toy_importer", Own=None)
    imported.Zeta = Zeta  # an import of another module's declaration is not registered again
    sys.modules.pop("fswap_toy_declared", None)
    assert [s.name for s in fswap.declared(mine)] == ["zeta", "alpha"]
    with pytest.raises(PluginError, match="module fswap_toy_importer declares no component"):
        fswap.declared(imported)
    with pytest.raises(PluginError, match=r"fswap.declared\(\) takes modules, received type"):
        fswap.declared(Zeta)  # type: ignore[arg-type]


def test_summary_of_reads_only_the_class_own_docstring() -> None:
    class NoDoc(fswap.NoOptions):
        pass

    assert summary_of(NoDoc) == ""


def test_every_kind_has_one_row_and_a_protocol() -> None:
    assert [row.kind for row in KINDS] == list(Kind) and set(BY_KIND) == set(Kind)
    for row in KINDS:
        assert callable(row.load_check()), row.check
        assert row.builds.strip() and row.stage.strip()
    with pytest.raises(ValueError, match="unknown component kind 'detektor'; kinds: detector, aligner"):
        info("detektor")


def test_missing_members_names_what_an_object_lacks() -> None:
    class HalfEmbedder:
        dim = 4

        def embed(self, faces: object) -> None: ...

    assert missing_members("embedder", HalfEmbedder()) == ["distance"]
    assert missing_members("attention", object()) == ["__call__"]
    assert missing_members("attention", lambda channels, *, name: None) == []
