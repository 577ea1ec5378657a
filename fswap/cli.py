"""The `fswap` command line. User errors print one line and exit 2; `--debug` shows tracebacks."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import attrs
import click

from fswap import __version__
from fswap.catalog import Catalog
from fswap.components import Kind
from fswap.config import load_pipeline
from fswap.errors import FswapError
from fswap.kinds import info
from fswap.logs import LEVEL_ENV, LEVELS, choose_level, cli_logging
from fswap.plugin_docs import TOPICS
from fswap.plugin_docs import render as render_docs
from fswap.plugins import PluginManager, make_plugin_manager
from fswap.schema import option_rows, render_reference


@attrs.define
class Session:
    """Per-invocation state: the plugin manager and catalog are built once, on first use."""

    debug: bool = False
    _pm: PluginManager | None = None
    _catalog: Catalog | None = None

    @property
    def pm(self) -> PluginManager:
        if self._pm is None:
            self._pm = make_plugin_manager()
        return self._pm

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog.from_plugin_manager(self.pm)
        return self._catalog


pass_session = click.make_pass_decorator(Session, ensure=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("-v", "--verbose", count=True,
              help="Show log lines of fswap and its plugins: -v INFO, -vv DEBUG (default: warnings only).")
@click.option("--log-level", type=click.Choice(list(LEVELS), case_sensitive=False), metavar="LEVEL",
              help=f"Log level ({', '.join(LEVELS)}); beats -v. Default: ${LEVEL_ENV}, else warning.")
@click.version_option(__version__, prog_name="fswap")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int, log_level: str | None) -> None:
    """fswap: plugin-based face swapping (extract → train → convert → evaluate).

    Outputs are synthetic media and are marked as such; see the README's responsible-use terms.
    """
    ctx.ensure_object(Session).debug = debug
    ctx.with_resource(cli_logging(choose_level(verbose, log_level)))


@cli.command()
@click.argument("pipeline", type=click.Path(path_type=Path))
@click.option("--stage", "stages", multiple=True, default=("all",), show_default=True,
              help="Stage to run (extract, train, convert, evaluate or all); repeatable.")
@click.option("--resume/--fresh", default=True, show_default=True,
              help="Continue earlier work in the workdir, or discard it and start the stages over.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override one pipeline option, e.g. --set convert.select=tracks "
                   "--set 'convert.tracks=[0,2]' (VALUE is a TOML value, else a plain string); repeatable.")
@pass_session
def run(session: Session, pipeline: Path, stages: tuple[str, ...], resume: bool, no_progress: bool,
        overrides: tuple[str, ...]) -> None:
    """Run the stages of PIPELINE (a pipeline.toml)."""
    from fswap.context import RunContext
    from fswap.run import run_pipeline
    from fswap.stages import STAGES

    valid = {"all", *(s.name for s in STAGES)}
    bad = [s for s in stages if s not in valid]
    if bad:
        raise click.BadParameter(f"'{bad[0]}'; valid: {', '.join(sorted(valid))}", param_hint="--stage")
    config = load_pipeline(pipeline, catalog=session.catalog, overrides=overrides)
    ctx = RunContext(pipeline=config, catalog=session.catalog, pm=session.pm, resume=resume,
                     progress=not no_progress)
    results = run_pipeline(ctx, stages)
    for result in results:
        click.echo(f"[{result.stage}] " + ", ".join(f"{k}={v}" for k, v in result.summary.items()))
        if result.headline:
            click.echo(f"[{result.stage}] {result.headline}")
        for label, path in result.outputs.items():
            click.echo(f"  {label}: {path}")


@cli.command()
@click.argument("pipeline", type=click.Path(path_type=Path))
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@pass_session
def evaluate(session: Session, pipeline: Path, no_progress: bool) -> None:
    """Run only the evaluate stage of PIPELINE (its [evaluate] table, or the defaults when it has none):
    writes <workdir>/evaluate/report.json and report.html."""
    from fswap.context import RunContext
    from fswap.run import run_pipeline
    from fswap.stages.evaluate_config import with_evaluate_section

    config = with_evaluate_section(load_pipeline(pipeline, catalog=session.catalog), session.catalog)
    ctx = RunContext(pipeline=config, catalog=session.catalog, pm=session.pm, progress=not no_progress)
    for result in run_pipeline(ctx, ["evaluate"]):
        click.echo(f"[{result.stage}] " + ", ".join(f"{k}={v}" for k, v in result.summary.items()))
        if result.headline:
            click.echo(f"[{result.stage}] {result.headline}")
        for label, path in result.outputs.items():
            click.echo(f"  {label}: {path}")


@cli.command()
@click.argument("pipeline", type=click.Path(path_type=Path))
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@pass_session
def tracks(session: Session, pipeline: Path, no_progress: bool) -> None:
    """Detect and track the faces of PIPELINE's [convert] input without converting: writes
    <workdir>/convert/tracks.json (per track: frames, identity distance, decision and why) and a contact
    sheet, tracks.png. Pick ids from it and set [convert] select = "tracks", tracks = [ids]."""
    from fswap.context import RunContext
    from fswap.errors import ConfigError
    from fswap.lock import workdir_lock
    from fswap.stages.convert_select import review_tracks
    from fswap.weights import resolving_weights

    config = load_pipeline(pipeline, catalog=session.catalog)
    convert = config.stage("convert")
    if convert is None:
        raise ConfigError(f"{pipeline}: no [convert] section; `fswap tracks` reviews the faces of its input")
    ctx = RunContext(pipeline=config, catalog=session.catalog, pm=session.pm, progress=not no_progress)
    config.workdir.root.mkdir(parents=True, exist_ok=True)
    with workdir_lock(config.workdir.root), resolving_weights(session.pm):  # not beside a run there
        result = review_tracks(ctx, convert)
    click.echo(f"[tracks] select={result['select']}, tracks={result['tracks']}, "
               f"swap={result['tracks_swapped']}, leave={result['tracks_left']}, cuts={result['cuts']}")
    click.echo(f"  tracks: {result['tracks_file']}")
    if result["contact_sheet"] is not None:
        click.echo(f"  contact sheet: {result['contact_sheet']}")


@cli.command("export")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["onnx", "savedmodel"]), default="onnx", show_default=True,
              help="ONNX (for ONNX Runtime, TensorRT, …) or a TensorFlow SavedModel (TF Serving, TF Lite).")
@click.option("--direction", type=click.Choice(["a_to_b", "b_to_a", "both"]), default="both",
              show_default=True, help="Which generator(s) to export.")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Folder for the files (default: MODEL/<format>/).")
@pass_session
def export(session: Session, model: Path, fmt: str, direction: str, output: Path | None) -> None:
    """Export the generators of MODEL (an exported model folder, or a pipeline whose workdir holds one) for
    deployment: each takes uint8 BGR faces and returns alpha and BGR, with fswap's metadata inside
    (`generator_<direction>.onnx`, or a SavedModel folder `generator_<direction>`)."""
    from fswap.errors import InputError
    from fswap.model.deploy import export_generator, export_path

    if model.suffix == ".toml":
        model = load_pipeline(model, catalog=session.catalog).workdir.model / "export"
    if not (model / "model.json").is_file():
        raise InputError(f"{model}: no exported model here (model.json); give the folder the train stage "
                         "exports to (<workdir>/model/export) or the pipeline's TOML")
    for name in ("a_to_b", "b_to_a") if direction == "both" else (direction,):
        default = export_path(model, name, fmt)
        path = export_generator(model, name, fmt, None if output is None else output / default.name)
        click.echo(f"[export] {name}: {path}")


@cli.command()
@click.argument("pipeline", type=click.Path(path_type=Path))
@pass_session
def validate(session: Session, pipeline: Path) -> None:
    """Check PIPELINE without running anything (never imports TensorFlow)."""
    config = load_pipeline(pipeline, catalog=session.catalog)
    click.echo(f"{pipeline}: valid; stages: {', '.join(config.stages)}; workdir: {config.workdir.root}")


@cli.command()
@click.argument("pipeline", required=False, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (anything but 127.0.0.1/localhost is reachable by others).")
@click.option("--port", default=7865, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one (the printed URL shows it).")
def studio(pipeline: Path | None, host: str, port: int) -> None:
    """A local web app to run PIPELINE's stages and watch them: progress, previews, losses, face sets,
    tracks, a swap preview, the video and report (needs the studio extra). Never opens a browser."""
    from fswap.studio.serve import serve

    serve(pipeline, host=host, port=port)


@cli.group()
def plugins() -> None:
    """Inspect installed plugins and their components."""


@plugins.command("list")
@click.option("--kind", type=click.Choice([k.value for k in Kind]), help="Only this kind.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_session
def plugins_list(session: Session, kind: str | None, as_json: bool) -> None:
    """List every component by kind, with the distribution that provides it."""
    rows = [
        {
            "kind": str(e.spec.kind),
            "name": e.spec.name,
            "aliases": list(e.spec.aliases),
            "summary": e.spec.summary,
            "plugin": e.provider.plugin,
            "distribution": e.provider.distribution,
            "version": e.provider.version,
        }
        for e in session.catalog
        if kind is None or e.spec.kind == kind
    ]
    if as_json:
        kinds = [kind] if kind else [k.value for k in Kind]
        click.echo(json.dumps({"kinds": kinds, "components": rows}, indent=2))
        return
    current = None
    for row in rows:
        if row["kind"] != current:
            current = row["kind"]
            click.echo(f"{current}:")
        click.echo(f"  {row['name']:<24} {row['distribution']} {row['version']:<8} {row['summary']}")


@plugins.command("show")
@click.argument("kind", type=click.Choice([k.value for k in Kind]), metavar="KIND")
@click.argument("name")
@pass_session
def plugins_show(session: Session, kind: str, name: str) -> None:
    """Show one component: its provider and every option with type, default and help."""
    entry = session.catalog.get(kind, name)
    click.echo(
        f"{entry.spec.kind} '{entry.spec.name}' from {entry.provider} (plugin '{entry.provider.plugin}')"
    )
    if entry.spec.summary:
        click.echo(entry.spec.summary)
    if entry.spec.aliases:
        click.echo(f"aliases: {', '.join(entry.spec.aliases)}")
    click.echo(f"factory: {entry.spec.factory}")
    if entry.spec.default_for:
        click.echo(f"default for: {', '.join(entry.spec.default_for)} (used where a pipeline names none)")
    click.echo(f"contract: {info(entry.spec.kind).builds} (`fswap docs contracts`)")
    for row in option_rows(entry.spec.config, session.catalog):
        click.echo(f"  {row['name']} ({row['type']}, default {row['default']}): {row['help']}")
    if entry.spec.kind == Kind.RECIPE:  # what the recipe fills in is the point of showing one
        from fswap.train.recipes import recipe_table

        click.echo("sets, where [train] leaves them out:")
        for key, value in recipe_table(session.catalog, entry.spec.name).items():
            click.echo(f"  {key} = {json.dumps(value, ensure_ascii=False)}")


@plugins.command("new")
@click.argument("distribution", metavar="NAME")
@click.option("--kind", required=True, metavar="KIND",
              help="The component's kind: blender, color_transfer, loss, mask_generator or tracker.")
@click.option("--component", default=None, help="The component's name (default: NAME without 'fswap-').")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Where to write the package folder NAME/.")
def plugins_new(distribution: str, kind: str, component: str | None, folder: Path) -> None:
    """Write a plugin package NAME/ for one component of KIND: pyproject with the entry point, the declared
    config, a working baseline implementation, contract tests (fswap.testing) and a README."""
    from fswap.scaffold import names_for, write_package

    root = write_package(kind, names_for(distribution, component), folder)
    click.echo(f"wrote {root}: cd {root} && pip install -e '.[test]' && pytest")


@cli.command()
@pass_session
def schema(session: Session) -> None:
    """Print the pipeline.toml reference generated from the config classes (Markdown)."""
    click.echo(render_reference(session.catalog), nl=False)


@cli.command("docs")
@click.argument("topic", type=click.Choice(list(TOPICS)), metavar="TOPIC")
def docs_command(topic: str) -> None:
    """Print the plugin author's reference, generated from the installed fswap (Markdown).

    TOPIC: contracts (what each kind's component receives and returns), hooks (every hook a plugin may
    implement), declare (declaring a component; migrating a plugin from fswap 0.1) or surface (the
    modules of fswap a plugin may import)."""
    click.echo(render_docs(topic), nl=False)


@cli.group()
def weights() -> None:
    """Known model weights: list them, fetch them into the cache, or import a local file."""


def _weights_specs(session: Session) -> dict[str, Any]:
    """Every registered WeightsSpec by name; a malformed registration names its plugin."""
    from fswap.errors import PluginError
    from fswap.weights import WeightsSpec

    specs: dict[str, Any] = {}
    for impl in session.pm.hook.fswap_register_weights.get_hookimpls():
        provider = session.pm.provider_of(impl.plugin_name)
        group = impl.function() or []
        if not isinstance(group, list | tuple) or not all(isinstance(s, WeightsSpec) for s in group):
            raise PluginError(
                f"plugin '{impl.plugin_name}' ({provider}) returned {type(group).__name__} from "
                f"fswap_register_weights; expected a list of WeightsSpec. Disable it with "
                f"FSWAP_DISABLE_PLUGINS={impl.plugin_name}"
            )
        for spec in group:
            if spec.name in specs:
                raise PluginError(
                    f"weights name '{spec.name}' is registered twice (again by plugin '{impl.plugin_name}', "
                    f"{provider})"
                )
            specs[spec.name] = spec
    return specs


def _weights_spec(session: Session, name: str) -> Any:
    specs = _weights_specs(session)
    if name not in specs:
        raise FswapError(f"no weights named '{name}'; known: {', '.join(sorted(specs)) or 'none'}")
    return specs[name]


@weights.command("list")
@pass_session
def weights_list(session: Session) -> None:
    """List fetchable weights, their licence and whether they are cached."""
    from fswap.weights import cached_path

    for spec in _weights_specs(session).values():
        state = "cached" if cached_path(spec).is_file() else "not cached"
        click.echo(f"{spec.name:<22} {state:<11} licence: {spec.licence}; source: {spec.url}")


@weights.command("fetch")
@click.argument("name")
@click.option("--from-file", "source", type=click.Path(path_type=Path),
              help="Import a file you already have instead of downloading (checksum still verified).")
@pass_session
def weights_fetch(session: Session, name: str, source: Path | None) -> None:
    """Download NAME into the cache (atomic, checksum verified when known)."""
    from fswap.weights import fetch

    spec = _weights_spec(session, name)
    click.echo(f"{spec.name}: source {source or spec.url}; licence: {spec.licence}", err=True)
    path = fetch(spec, source=source)
    click.echo(str(path))


@weights.command("path")
@click.argument("name")
@pass_session
def weights_path(session: Session, name: str) -> None:
    """Print where NAME's weights are (plugin-resolved or cached)."""
    from fswap.weights import cached_path, plugin_resolver

    spec = _weights_spec(session, name)
    resolved = plugin_resolver(session.pm)(name)
    click.echo(str(resolved or cached_path(spec)))


@cli.group()
def model() -> None:
    """Inspect the networks a pipeline's [train.model] describes."""


@model.command("summary")
@click.argument("pipeline", type=click.Path(path_type=Path))
@click.option("--layers", is_flag=True, help="Also print every network's layer table.")
@pass_session
def model_summary(session: Session, pipeline: Path, layers: bool) -> None:
    """Build the networks of PIPELINE's [train.model] and print the parameters per network."""
    from fswap.model.config import model_table_from_pipeline, parse_model_config

    config = parse_model_config(model_table_from_pipeline(pipeline), catalog=session.catalog,
                                source=pipeline.name)
    from fswap.model.networks import build_networks
    from fswap.model.summary import parameter_counts, render_counts, render_layers

    networks = build_networks(config)
    title = (f"{pipeline.name}: resolution {config.resolution}, capacity {config.capacity}, "
             f"width_divisor {config.width_divisor}, normalization {config.normalization.name}, "
             f"attention {config.attention.name}, upsampling {config.upsampling.name}")
    click.echo(render_counts(parameter_counts(networks), title))
    if layers:
        for net in networks.all().values():
            click.echo("\n" + render_layers(net))


def _add_plugin_commands(session: Session) -> None:
    session.pm.hook.fswap_add_cli_commands(cli=cli)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the CLI and maps errors to exit codes (2 user error, 1 internal)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    quiet: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if not debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's INFO and WARNING lines
        from fswap.native_stderr import quiet_native_stderr

        quiet = quiet_native_stderr()  # also the ones it prints anyway, and Grappler's "pass failed"
    with quiet:
        return _run(args, Session(debug=debug))


def _run(args: list[str], session: Session) -> int:
    """Run the command line; errors become one line on stderr and an exit code."""
    debug = session.debug
    try:
        _add_plugin_commands(session)
        cli.main(args=args, prog_name="fswap", standalone_mode=False, obj=session)
    except FswapError as exc:
        if debug:
            traceback.print_exc()
        message = " ".join(str(exc).split())  # always one line, even if a plugin's message has several
        click.echo(f"fswap: error: {message}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:  # usage errors: one line, with where to find help
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        click.echo(f"fswap: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.Abort:
        click.echo("fswap: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("fswap: interrupted", err=True)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        else:
            click.echo(
                f"fswap: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
                "(run with --debug for the traceback)",
                err=True,
            )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
