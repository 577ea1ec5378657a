"""The `fswap` CLI: exit codes, one-line errors, --debug, plugins list/show, schema, no TensorFlow.

Most tests run the real console entry point in a subprocess (`python -m fswap.cli`), as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import pytest
from fswap_core_toys import TOY_STAGES

import fswap.cli
from fswap.cli import main
from fswap.components import Kind
from fswap.config import load_pipeline
from fswap.plugins import DISABLE_ENV

# a web framework too: the studio extra is imported by `fswap studio` only, never at discovery/validate
HEAVY = ("tensorflow", "keras", "cv2", "dlib", "torch", "starlette", "uvicorn", "fswap.studio")
TOYS_DIR = str(Path(__file__).parent)


def fswap_cmd(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "fswap.cli", *args], capture_output=True, text=True, env=full_env, cwd=cwd,
        timeout=300,
    )


def broken_site(root: Path) -> Path:
    """A folder that, put on PYTHONPATH, looks like an installed plugin distribution that fails to import."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "fswap_broken_plugin.py").write_text('raise RuntimeError("needs libbroken 2.0")\n')
    info = root / "fswap_broken-0.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fswap-broken\nVersion: 0.9\n")
    (info / "entry_points.txt").write_text("[fswap.plugins]\nbroken = fswap_broken_plugin\n")
    return root


# -- subprocess: the real entry point ----------------------------------------------------------------


def test_version_and_help_exit_zero() -> None:
    done = fswap_cmd("--version")
    assert done.returncode == 0 and fswap.__version__ in done.stdout
    done = fswap_cmd("--help")
    assert done.returncode == 0
    for command in ("run", "validate", "plugins", "schema", "weights"):
        assert command in done.stdout


def test_plugins_list_json_lists_every_kind_with_providers() -> None:
    done = fswap_cmd("plugins", "list", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["kinds"] == [k.value for k in Kind]
    rows = data["components"]
    assert rows, "the standard plugin registers components"
    assert {"kind", "name", "aliases", "summary", "plugin", "distribution", "version"} <= set(rows[0])
    tracker_none = [r for r in rows if (r["kind"], r["name"]) == ("tracker", "none")]
    assert tracker_none and tracker_none[0]["distribution"] == "fswap"
    assert tracker_none[0]["version"] == fswap.__version__
    assert len({(r["kind"], r["name"]) for r in rows}) == len(rows)


def test_plugins_list_kind_filter_and_text_output() -> None:
    done = fswap_cmd("plugins", "list", "--kind", "tracker", "--json")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert data["kinds"] == ["tracker"]
    assert {r["kind"] for r in data["components"]} == {"tracker"}
    text = fswap_cmd("plugins", "list", "--kind", "tracker")
    assert text.returncode == 0
    assert text.stdout.startswith("tracker:\n")
    assert "  none " in text.stdout and "fswap " + fswap.__version__ in text.stdout


def test_plugins_show_prints_provider_factory_and_options() -> None:
    done = fswap_cmd("plugins", "show", "tracker", "none")
    assert done.returncode == 0
    assert done.stdout.startswith(f"tracker 'none' from fswap {fswap.__version__} (plugin 'standard')")
    assert "factory: fswap_standard.trackers:PassThroughTracker" in done.stdout
    assert "default for" not in done.stdout  # the pass-through tracker is no slot's default


def test_plugins_show_says_which_defaults_a_component_fills_and_what_a_recipe_sets() -> None:
    done = fswap_cmd("plugins", "show", "tracker", "kalman")
    assert "default for: tracker (used where a pipeline names none)" in done.stdout
    recipe = fswap_cmd("plugins", "show", "recipe", "fast")
    assert recipe.returncode == 0 and "default for: recipe" in recipe.stdout
    lines = recipe.stdout.split("sets, where [train] leaves them out:\n", 1)[1].splitlines()
    assert "  batch_size = 16" in lines and "  lr_generator = 0.0002" in lines
    assert any(line.startswith('  losses = {"reconstruction": {}, "structure": {}') for line in lines)


def test_plugins_show_unknown_name_exit_2_with_suggestion() -> None:
    done = fswap_cmd("plugins", "show", "tracker", "nnoe")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("fswap: error: no tracker named 'nnoe'. Available: ")
    assert lines[0].endswith("Did you mean 'none'?")


@pytest.mark.parametrize(
    "args",
    [("bogus",), ("plugins", "show", "trackr", "x"), ("run",), ("plugins", "list", "--kind", "nope")],
)
def test_usage_errors_exit_2_on_one_line(args: tuple[str, ...]) -> None:
    done = fswap_cmd(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fswap: error: ") and "--help" in lines[0]
    assert "Traceback" not in done.stderr


def test_schema_prints_the_reference() -> None:
    done = fswap_cmd("schema")
    assert done.returncode == 0
    assert done.stdout.startswith("# pipeline.toml reference\n")
    assert "# Components" in done.stdout and "### `none` — fswap" in done.stdout


def test_missing_pipeline_file_is_a_user_error(tmp_path: Path) -> None:
    done = fswap_cmd("validate", str(tmp_path / "absent.toml"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"fswap: error: {tmp_path / 'absent.toml'}: no such pipeline file"


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text("seed = 1\n[extract\n")
    done = fswap_cmd("validate", str(path))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert line.startswith("fswap: error: pipeline.toml: TOML syntax error:") and "line 2" in line
    assert "\n" not in line


def test_broken_plugin_one_clear_line_naming_it_and_the_switch(tmp_path: Path) -> None:
    site = broken_site(tmp_path / "site")
    env = {"PYTHONPATH": str(site)}
    done = fswap_cmd("plugins", "list", env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("fswap: error: plugin 'broken' (fswap-broken 0.9) failed to load")
    assert "needs libbroken 2.0" in line and f"{DISABLE_ENV}=broken" in line
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    site = broken_site(tmp_path / "site")
    done = fswap_cmd("--debug", "plugins", "list", env={"PYTHONPATH": str(site)})
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert 'raise RuntimeError("needs libbroken 2.0")' in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("fswap: error: plugin 'broken'")


def test_disable_switch_makes_the_broken_plugin_harmless(tmp_path: Path) -> None:
    site = broken_site(tmp_path / "site")
    done = fswap_cmd("plugins", "list", "--json", env={"PYTHONPATH": str(site), DISABLE_ENV: "broken"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["components"]


NO_HEAVY_SCRIPT = """
import json, sys
sys.path.insert(0, {toys!r})
from functools import partial
import fswap.cli
from fswap.config import load_pipeline
{setup}
rc = fswap.cli.main({argv!r})
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
sys.stderr.write("\\nRESULT " + json.dumps({{"rc": rc, "heavy": heavy}}) + "\\n")
"""


def run_checking_imports(argv: list[str], setup: str = "") -> dict:
    script = NO_HEAVY_SCRIPT.format(toys=TOYS_DIR, setup=setup, argv=argv, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    result_line = [line for line in done.stderr.splitlines() if line.startswith("RESULT ")]
    assert result_line, done.stderr
    return json.loads(result_line[-1][len("RESULT "):])


def test_plugins_list_imports_no_tensorflow_keras_or_cv2() -> None:
    result = run_checking_imports(["plugins", "list", "--json"])
    assert result == {"rc": 0, "heavy": []}


def test_validate_imports_no_tensorflow_keras_or_cv2(tmp_path: Path) -> None:
    """Validation builds the real catalog (every installed plugin's registration module) and structures
    a pipeline with component tables; none of it may pull in heavy libraries."""
    path = tmp_path / "pipeline.toml"
    path.write_text(
        "[train]\niterations = 3\n"
        "[train.losses.reconstruction]\nweight = 2.0\n[train.losses.edge]\n"
    )
    setup = (
        "from fswap_core_toys import TOY_STAGES\n"
        "fswap.cli.load_pipeline = partial(load_pipeline, stages=TOY_STAGES)\n"
    )
    result = run_checking_imports(["validate", str(path)], setup=setup)
    assert result == {"rc": 0, "heavy": []}


def test_plugin_commands_are_added_through_the_hook(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "fswap_cmd_plugin.py").write_text(
        textwrap.dedent(
            """
            import click
            from fswap import hookimpl

            @hookimpl
            def fswap_add_cli_commands(cli):
                @cli.command("hello")
                def hello():
                    click.echo("hello from a plugin")
            """
        )
    )
    info = site / "fswap_cmd-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fswap-cmd\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[fswap.plugins]\ncmd = fswap_cmd_plugin\n")
    done = fswap_cmd("hello", env={"PYTHONPATH": str(site)})
    assert (done.returncode, done.stdout) == (0, "hello from a plugin\n")


# -- in-process: stage pipelines with the test stages -------------------------------------------------


@pytest.fixture
def toy_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fswap.cli, "load_pipeline", partial(load_pipeline, stages=TOY_STAGES))


def test_validate_ok(tmp_path: Path, toy_stages: None, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text('workdir = "w"\n[train]\niterations = 3\n')
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == f"{path}: valid; stages: train; workdir: {tmp_path.resolve() / 'w'}\n"


def test_validate_misspelt_component_exit_2(
    tmp_path: Path, toy_stages: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text("[train]\n[train.losses.reconstructoin]\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fswap: error: pipeline.toml [train.losses.reconstructoin]: no loss named")
    assert err.endswith("Did you mean 'reconstruction'?") and "\n" not in err


def test_validate_misspelt_option_names_valid_options(
    tmp_path: Path, toy_stages: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text("[train]\n[train.losses.reconstruction]\nwieght = 2\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fswap: error: pipeline.toml [train.losses.reconstruction] (reconstruction): ")
    assert "unknown option 'wieght'; valid: " in err and "weight" in err


def test_run_with_unknown_stage_name_is_a_usage_error(
    tmp_path: Path, toy_stages: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text("[train]\n")
    assert main(["run", str(path), "--stage", "trian"]) == 2
    assert "Invalid value for --stage: 'trian'; valid: all" in capsys.readouterr().err


def test_internal_error_exit_1_with_hint_and_debug_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*_args: object, **_kwargs: object) -> str:
        raise ZeroDivisionError("division by zero in a bug")

    monkeypatch.setattr(fswap.cli, "render_reference", explode)
    assert main(["schema"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "fswap: internal error: ZeroDivisionError: division by zero in a bug "
        "(run with --debug for the traceback)\n"
    )
    assert main(["--debug", "schema"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError" in err


# -- the real stages: the pipeline.toml shape users write ---------------------------------------------------

FULL_PIPELINE = """
workdir = "work"
seed = 0
[extract]
every_n_frames = 1
policy = "single"
[extract.a]
input = "inputs/a.mp4"
[extract.b]
input = "inputs/b.mp4"
[extract.detector]
use = "mtcnn"
[extract.aligner]
use = "umeyama5"
[extract.masks.eyes5]
[train]
iterations = 200
batch_size = 8
[train.model]
resolution = 64
capacity = "lite"
[train.model.normalization]
use = "hybrid"
[train.model.attention]
use = "self_attention"
[train.model.upsampling]
use = "pixel_shuffle"
[train.losses.reconstruction]
weight = 1.0
[convert]
input = "inputs/a.mp4"
direction = "a_to_b"
[convert.tracker]
use = "kalman"
[evaluate]
"""


def test_validate_the_full_pipeline_shape_without_heavy_imports(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text(FULL_PIPELINE)
    assert run_checking_imports(["validate", str(path)]) == {"rc": 0, "heavy": []}
    done = fswap_cmd("validate", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"{path}: valid; stages: extract, train, convert, evaluate; workdir: {tmp_path.resolve() / 'work'}\n"
    )


def test_validate_misspelt_detector_in_the_real_extract_stage(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text(FULL_PIPELINE.replace('use = "mtcnn"', 'use = "mtcn"'))
    done = fswap_cmd("validate", str(path))
    assert done.returncode == 2 and done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    expected_start = "fswap: error: pipeline.toml [extract.detector]: no detector named 'mtcn'. Available: "
    assert line.startswith(expected_start)
    assert f"mtcnn (fswap {fswap.__version__})" in line and line.endswith("Did you mean 'mtcnn'?")


def test_validate_misspelt_option_in_the_real_extract_stage(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text(FULL_PIPELINE.replace('use = "mtcnn"', 'use = "mtcnn"\nmin_face_sise = 30'))
    done = fswap_cmd("validate", str(path))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert line.startswith(
        "fswap: error: pipeline.toml [extract.detector] (mtcnn): unknown option 'min_face_sise'; valid: "
    )
    assert "min_face_size" in line and "\n" not in line


def test_internal_error_in_a_subprocess_exits_1_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "fswap_buggy_plugin.py").write_text(
        textwrap.dedent(
            """
            from fswap import hookimpl

            @hookimpl
            def fswap_add_cli_commands(cli):
                @cli.command("boom")
                def boom():
                    return {}["missing"]
            """
        )
    )
    info = site / "fswap_buggy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fswap-buggy\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[fswap.plugins]\nbuggy = fswap_buggy_plugin\n")
    env = {"PYTHONPATH": str(site)}
    done = fswap_cmd("boom", env=env)
    assert done.returncode == 1
    assert done.stderr == (
        "fswap: internal error: KeyError: 'missing' (run with --debug for the traceback)\n"
    )
    done = fswap_cmd("--debug", "boom", env=env)
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr and 'return {}["missing"]' in done.stderr


def weights_site(root: Path, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "fswap_weights_plugin.py").write_text(
        "from fswap import hookimpl\nfrom fswap.weights import WeightsSpec\n\n"
        f"@hookimpl\ndef fswap_register_weights():\n    return {body}\n"
    )
    info = root / "fswap_weights-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fswap-weights\nVersion: 2.0\n")
    (info / "entry_points.txt").write_text("[fswap.plugins]\nweights = fswap_weights_plugin\n")
    return root


def test_weights_list_fetch_from_file_and_path(tmp_path: Path) -> None:
    import hashlib

    payload = tmp_path / "net.bin"
    payload.write_bytes(b"weights" * 100)
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    site = weights_site(
        tmp_path / "site",
        f"[WeightsSpec(name='toy-net', url='https://example.invalid/net.bin', filename='net.bin', "
        f"licence='CC0', sha256='{digest}')]",
    )
    env = {"PYTHONPATH": str(site), "FSWAP_CACHE_DIR": str(tmp_path / "cache")}
    listed = fswap_cmd("weights", "list", env=env)
    assert listed.returncode == 0 and "toy-net" in listed.stdout and "not cached" in listed.stdout
    fetched = fswap_cmd("weights", "fetch", "toy-net", "--from-file", str(payload), env=env)
    assert fetched.returncode == 0, fetched.stderr
    cached = tmp_path / "cache" / "toy-net" / "net.bin"
    assert fetched.stdout.strip() == str(cached) and cached.read_bytes() == payload.read_bytes()
    assert fswap_cmd("weights", "path", "toy-net", env=env).stdout.strip() == str(cached)
    assert " cached " in fswap_cmd("weights", "list", env=env).stdout
    unknown = fswap_cmd("weights", "fetch", "toy-nett", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("fswap: error: no weights named 'toy-nett'; known: ")
    assert "toy-net" in unknown.stderr.split("known: ")[1]


def test_malformed_weights_registration_names_the_plugin(tmp_path: Path) -> None:
    site = weights_site(tmp_path / "site", "{'name': 'x'}")
    done = fswap_cmd("weights", "list", env={"PYTHONPATH": str(site)})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "fswap: error: plugin 'weights' (fswap-weights 2.0) returned dict from fswap_register_weights; "
        "expected a list of WeightsSpec. Disable it with FSWAP_DISABLE_PLUGINS=weights"
    )


# -- logging: -v / --log-level / FSWAP_LOG_LEVEL route every logger to stderr, around progress bars -------


def chatty_site(root: Path) -> Path:
    """A plugin distribution whose command logs at every level from its own logger (and can draw a bar)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "fswap_chatty_plugin.py").write_text(
        textwrap.dedent(
            """
            import logging

            import click
            from fswap import hookimpl

            log = logging.getLogger(__name__)


            @hookimpl
            def fswap_add_cli_commands(cli):
                @cli.command("chatty")
                @click.option("--bar", is_flag=True)
                def chatty(bar):
                    if bar:
                        from tqdm import tqdm

                        with tqdm(total=4, desc="work", disable=False) as progress:
                            progress.update(1)
                            log.warning("halfway there")
                            progress.update(3)
                        return
                    log.debug("debug line")
                    log.info("info line")
                    log.warning("warning line")
                    logging.getLogger("PIL.PngImagePlugin").info("STREAM b'IHDR' 16 13")
            """
        )
    )
    info = root / "fswap_chatty-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fswap-chatty\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[fswap.plugins]\nchatty = fswap_chatty_plugin\n")
    return root


def test_log_lines_of_plugins_reach_stderr_at_the_chosen_level(tmp_path: Path) -> None:
    site = str(chatty_site(tmp_path / "site"))
    debug, info, warning = (f"{level} fswap_chatty_plugin: {level.lower()} line"
                            for level in ("DEBUG", "INFO", "WARNING"))
    pil = "INFO PIL.PngImagePlugin: STREAM b'IHDR' 16 13"
    cases = [
        ((), {}, [warning]),  # default: warnings reach users
        (("-v",), {}, [info, warning]),  # a noisy library's INFO stays hidden
        (("-vv",), {}, [debug, info, warning, pil]),  # ... unless -vv
        (("--log-level", "DEBUG"), {}, [debug, info, warning, pil]),
        (("--log-level", "error"), {}, []),
        ((), {"FSWAP_LOG_LEVEL": "info"}, [info, warning]),
        (("-v",), {"FSWAP_LOG_LEVEL": "error"}, [info, warning]),  # the command line beats the variable
        (("-vv", "--log-level", "warning"), {}, [warning]),  # --log-level beats -v
    ]
    for options, env, expected in cases:
        done = fswap_cmd(*options, "chatty", env={"PYTHONPATH": site, "FSWAP_LOG_LEVEL": "", **env})
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines() == expected, (options, env)


def test_a_log_line_during_a_progress_bar_is_a_line_of_its_own(tmp_path: Path) -> None:
    done = fswap_cmd("chatty", "--bar", env={"PYTHONPATH": str(chatty_site(tmp_path / "site"))})
    assert done.returncode == 0, done.stderr
    lines = done.stderr.split("\n")
    shown = [line.split("\r")[-1] for line in lines]  # what a terminal shows once each \r has redrawn
    assert "WARNING fswap_chatty_plugin: halfway there" in shown, done.stderr
    assert "work: 100%" in done.stderr.split("halfway there")[1]  # the bar was drawn again after the line


def test_an_invalid_log_level_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = fswap_cmd("--log-level", "loud", "plugins", "list")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("fswap: error: Invalid value for '--log-level': 'loud' is not one of ")
    assert len(done.stderr.splitlines()) == 1
    done = fswap_cmd("plugins", "list", env={"FSWAP_LOG_LEVEL": "loud"})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "fswap: error: FSWAP_LOG_LEVEL: 'loud' is not a log level; "
        "valid: debug, info, warning, error, critical\n"
    )


def test_logging_is_set_up_for_one_command_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.getLogger("matplotlib").level)

    def logging_render(*_args: object) -> str:
        logging.getLogger("some_plugin.part").info("rendering")
        return ""

    monkeypatch.setattr(fswap.cli, "render_reference", logging_render)
    assert main(["-v", "schema"]) == 0
    assert capsys.readouterr().err == "INFO some_plugin.part: rendering\n"
    assert (list(root.handlers), root.level, logging.getLogger("matplotlib").level) == before
    logging.getLogger("some_plugin.part").warning("after the command")
    assert "after the command" not in capsys.readouterr().err  # fswap's handler is gone


def test_the_library_configures_no_logging() -> None:
    script = ("import logging, fswap.api\nfswap.api.catalog()\n"
              "print(logging.getLogger().handlers, logging.getLogger().level)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout) == (0, "[] 30\n"), done.stderr


# -- a tiny training run through the CLI: log lines with -v, no TensorFlow/Grappler noise ----------------

TINY_TRAIN_TOML = """
workdir = "work"
seed = 1
[train]
iterations = 1
batch_size = 2
preview_every = 50
[train.model]
resolution = 64
capacity = "lite"
width_divisor = 16
[train.model.attention]
use = "none"
[train.losses.reconstruction]
[train.losses.vggface]
"""


@pytest.mark.slow
def test_training_shows_log_lines_with_v_and_no_grappler_noise(tmp_path: Path) -> None:
    """The model's pixel-shuffle upsampling is Conv2D+BiasAdd → LeakyReLU. With oneDNN on, Grappler's
    remapper fuses it and then fails on the LeakyReLU gradient (`meta_optimizer.cc:… remapper failed`,
    printed by C++ when the first step is traced). oneDNN is on by default only on CPUs with AVX-512 or
    AMX, so the test switches it on; the --debug run (nothing filtered) proves the line is really printed."""
    from fswap.train.toys import make_toy_faceset

    make_toy_faceset(tmp_path / "work" / "faces" / "a", "astronaut", count=2)
    make_toy_faceset(tmp_path / "work" / "faces" / "b", "grace_hopper", count=2)
    toml = tmp_path / "pipeline.toml"
    toml.write_text(TINY_TRAIN_TOML)
    env = {"TF_ENABLE_ONEDNN_OPTS": "1", "FSWAP_CACHE_DIR": str(tmp_path / "cache"), "FSWAP_LOG_LEVEL": ""}
    unfiltered = fswap_cmd("--debug", "run", str(toml), "--no-progress", env=env, cwd=tmp_path)
    assert unfiltered.returncode == 0, unfiltered.stderr[-3000:]
    assert "remapper failed" in unfiltered.stderr  # the trigger is real in this model

    done = fswap_cmd("-v", "run", str(toml), "--fresh", "--no-progress", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert not [line for line in lines if "meta_optimizer" in line or "remapper" in line], done.stderr
    assert not [line for line in lines if line[:1] in "IWEF" and line[1:5].isdigit()], done.stderr  # no absl
    assert "INFO fswap.train: vggface perceptual loss uses the mtcnn_onet backbone" in lines, done.stderr
    assert all(line.startswith(("INFO ", "WARNING ")) for line in lines), done.stderr
