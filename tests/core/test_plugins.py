"""The plugin manager: entry-point loading, providers, import failures, the disable switch, duplicates."""

from __future__ import annotations

import sys

import pytest

import fswap
from fswap.errors import PluginError
from fswap.plugins import DISABLE_ENV, ENTRY_POINT_GROUP, disabled_plugins, make_plugin_manager

GOOD = """
from fswap import ComponentSpec, hookimpl
import attrs

@attrs.frozen
class Cfg:
    pass

@hookimpl
def fswap_register_components():
    return [ComponentSpec(kind="detector", name="{name}", factory="x.y:Z", config=Cfg)]
"""

BROKEN = """
raise ImportError("libfoo.so: cannot open shared object file")
"""


def test_loads_entry_point_and_records_distribution(site, use_entry_points) -> None:
    module = site.module(GOOD.replace("{name}", "toy"))
    use_entry_points(site.dist("fswap-toy", "1.2.3", {"toy": module}))
    pm = make_plugin_manager(environ={})
    assert pm.get_plugin("toy") is sys.modules[module]
    provider = pm.provider_of("toy")
    assert (provider.plugin, provider.distribution, provider.version) == ("toy", "fswap-toy", "1.2.3")
    assert str(provider) == "fswap-toy 1.2.3"


def test_each_call_builds_a_fresh_manager(site, use_entry_points) -> None:
    module = site.module(GOOD.replace("{name}", "toy"))
    use_entry_points(site.dist("fswap-toy", "1.0", {"toy": module}))
    first, second = make_plugin_manager(environ={}), make_plugin_manager(environ={})
    assert first is not second
    first.unregister(name="toy")
    assert second.get_plugin("toy") is not None


def test_import_failure_names_entry_point_distribution_version_and_switch(site, use_entry_points) -> None:
    module = site.module(BROKEN)
    use_entry_points(site.dist("fswap-broken", "0.4", {"broken": module}))
    with pytest.raises(PluginError) as info:
        make_plugin_manager(environ={})
    message = str(info.value)
    assert "plugin 'broken'" in message
    assert "fswap-broken 0.4" in message
    assert "libfoo.so" in message
    assert f"{DISABLE_ENV}=broken" in message
    assert "\n" not in message
    assert isinstance(info.value.__cause__, ImportError)


def test_disable_switch_blocks_the_import_before_it_happens(site, use_entry_points) -> None:
    module = site.module(BROKEN)
    good = site.module(GOOD.replace("{name}", "ok"))
    use_entry_points(
        site.dist("fswap-broken", "0.4", {"broken": module}), site.dist("fswap-ok", "1.0", {"ok": good})
    )
    pm = make_plugin_manager(environ={DISABLE_ENV: " broken , other"})
    assert module not in sys.modules  # never imported, so its import error never happened
    assert pm.get_plugin("broken") is None
    assert pm.get_plugin("ok") is not None


def test_disable_switch_reads_the_process_environment(site, use_entry_points, monkeypatch) -> None:
    module = site.module(BROKEN)
    use_entry_points(site.dist("fswap-broken", "0.4", {"broken": module}))
    monkeypatch.setenv(DISABLE_ENV, "broken")
    assert make_plugin_manager().get_plugin("broken") is None
    monkeypatch.delenv(DISABLE_ENV)
    with pytest.raises(PluginError, match="broken"):
        make_plugin_manager()


def test_disabled_plugins_parsing() -> None:
    assert disabled_plugins({DISABLE_ENV: "a, b,,c "}) == {"a", "b", "c"}
    assert disabled_plugins({DISABLE_ENV: ""}) == set()
    assert disabled_plugins({}) == set()


def test_same_entry_point_name_from_two_distributions_is_an_error_naming_both(site, use_entry_points) -> None:
    one = site.module(GOOD.replace("{name}", "one"))
    two = site.module(GOOD.replace("{name}", "two"))
    use_entry_points(
        site.dist("fswap-one", "1.0", {"faces": one}), site.dist("fswap-two", "2.0", {"faces": two})
    )
    with pytest.raises(PluginError) as info:
        make_plugin_manager(environ={})
    message = str(info.value)
    assert "'faces'" in message and "fswap-one 1.0" in message and "fswap-two 2.0" in message
    assert f"{DISABLE_ENV}=faces" in message


def test_same_distribution_seen_twice_is_loaded_once(site, use_entry_points) -> None:
    module = site.module(GOOD.replace("{name}", "toy"))
    dist = site.dist("fswap-toy", "1.0", {"toy": module})
    use_entry_points(dist, dist)
    pm = make_plugin_manager(environ={})
    assert [name for name, _ in pm.list_name_plugin()] == ["toy"]


def test_hook_with_wrong_arguments_is_a_plugin_error(site, use_entry_points) -> None:
    module = site.module(
        """
        from fswap import hookimpl

        @hookimpl
        def fswap_register_components(extra):
            return []
        """
    )
    use_entry_points(site.dist("fswap-bad", "1.0", {"bad": module}))
    with pytest.raises(PluginError, match=r"plugin 'bad' \(fswap-bad 1.0\) has an invalid hook"):
        make_plugin_manager(environ={})


def test_misspelt_hook_name_is_an_error_not_silently_ignored(site, use_entry_points) -> None:
    module = site.module(
        """
        from fswap import hookimpl

        @hookimpl
        def fswap_register_component():
            return []
        """
    )
    use_entry_points(site.dist("fswap-typo", "1.0", {"typo": module}))
    with pytest.raises(PluginError, match="'fswap_register_component', which is not an fswap hook"):
        make_plugin_manager(environ={})


@pytest.mark.parametrize("hook", ["fswap_register_detectors", "fswap_register_layers"])
def test_a_retired_per_kind_hook_names_the_migration(site, use_entry_points, hook: str) -> None:
    module = site.module(
        f"""
        from fswap import hookimpl

        @hookimpl
        def {hook}():
            return []
        """
    )
    use_entry_points(site.dist("fswap-old", "0.9", {"old": module}))
    with pytest.raises(PluginError) as info:
        make_plugin_manager(environ={})
    message = str(info.value)
    assert f"plugin 'old' (fswap-old 0.9) implements '{hook}', a registration hook of fswap 0.1" in message
    assert "fswap_register_components" in message and "@fswap.declare" in message
    assert f"{DISABLE_ENV}=old" in message and "\n" not in message


def test_extra_plugins_are_registered_as_local_and_can_be_disabled() -> None:
    class Extra:
        @fswap.hookimpl
        def fswap_register_components(self) -> list:
            return []

    pm = make_plugin_manager(extra_plugins=[("extra", Extra())], environ={})
    assert pm.provider_of("extra").version == "local"
    pm = make_plugin_manager(extra_plugins=[("extra", Extra())], environ={DISABLE_ENV: "extra"})
    assert pm.get_plugin("extra") is None


def test_installed_standard_plugin_is_found_through_the_real_group() -> None:
    pm = make_plugin_manager(environ={})
    assert ENTRY_POINT_GROUP == "fswap.plugins"
    provider = pm.provider_of("standard")
    assert provider.distribution == "fswap"
    assert provider.version == fswap.__version__


def test_provider_of_unknown_plugin_is_marked_unknown() -> None:
    pm = make_plugin_manager(environ={})
    assert pm.provider_of("nope").version == "unknown"
