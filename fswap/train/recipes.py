"""Training recipes: named sets of `[train]` defaults that plugins declare (kind `recipe`), chosen with one
line (`recipe = "…"`; absent: the recipe an installed plugin declares default for "recipe").

A recipe only fills in what the `[train]` table leaves out: an option given in the table wins, a given
sub-table is merged key by key over the recipe's, and a given `[train.losses]` table or `[[train.schedule]]`
list replaces the recipe's whole list. The built-in recipes (`fast`, the default, and `reference`) and the
reasons for each of their numbers are in fswap_standard.recipes (`fswap plugins show recipe fast`).
TensorFlow-free.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fswap.catalog import Catalog
from fswap.components import Kind
from fswap.errors import ConfigError

REPLACED_WHOLE = ("losses", "schedule")
"""Keys whose table/list in [train] replaces the recipe's entirely (not merged key by key)."""


def recipe_table(catalog: Catalog, name: str, *, where: str = "") -> dict[str, Any]:
    """A copy of recipe `name`'s [train] defaults (a ComponentNotFoundError listing the recipes when there
    is none of that name; a ConfigError naming the plugin when its table is not a table)."""
    from fswap.builder import build
    from fswap.structure import Context, structure_component

    choice = structure_component(Kind.RECIPE, {"use": name}, ctx=Context(catalog=catalog),
                                 section="train.recipe")
    table = getattr(build(choice), "table", None)
    if not isinstance(table, Mapping) or not all(isinstance(k, str) for k in table):
        raise ConfigError(f"{where or '[train]'}: recipe '{name}' ({choice.provider}) gives {table!r}; a "
                          "recipe's `table` must map [train] option names to values")
    return copy.deepcopy(dict(table))


def apply_recipe(table: Mapping[str, Any], where: str, catalog: Catalog | None) -> dict[str, Any]:
    """The [train] table with its recipe's defaults filled in; `recipe` is set to the recipe used, so the
    resolved name is recorded."""
    if catalog is None:
        raise ConfigError(f"{where}: no plugin catalog available to resolve the training recipe")
    name = table.get("recipe")
    if name is None:
        name = catalog.default(Kind.RECIPE, where=where)
    if not isinstance(name, str):  # a TOML table or array
        raise ConfigError(f"{where}: recipe must be a recipe name ({', '.join(catalog.names(Kind.RECIPE))}), "
                          f"received {name!r}")
    out = {**table, "recipe": name}
    for key, value in recipe_table(catalog, name, where=where).items():
        if key not in out:
            out[key] = value
        elif isinstance(value, Mapping) and isinstance(out[key], Mapping) and key not in REPLACED_WHOLE:
            out[key] = {**value, **out[key]}
    return out
