"""pipeline.toml → PipelineConfig: top level keys, stages, TOML errors, relative paths, check() hooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from fswap_core_toys import TOY_STAGES, ToyExtractConfig, ToyTrainConfig, toy_catalog

from fswap.config import load_pipeline, parse_pipeline, read_toml
from fswap.errors import ComponentNotFoundError, ConfigError
from fswap.workdir import Workdir

PIPELINE = """
workdir = "work"
seed = 7

[extract]
every_n_frames = 2

[extract.a]
input = "inputs/a.mp4"

[extract.detector]
use = "mtcnn"
min_face_size = 24

[train]
iterations = 50

[train.losses.reconstruction]
weight = 2.0

[train.losses.edge]
"""


def write(tmp_path: Path, text: str, name: str = "pipeline.toml") -> Path:
    path = tmp_path / "proj" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(path: Path):
    return load_pipeline(path, catalog=toy_catalog(), stages=TOY_STAGES)


def test_full_pipeline(tmp_path: Path) -> None:
    path = write(tmp_path, PIPELINE)
    pipeline = load(path)
    root = path.parent.resolve()
    assert pipeline.source == path.resolve()
    assert pipeline.workdir == Workdir(root / "work")
    assert pipeline.seed == 7
    extract = pipeline.stage("extract")
    assert isinstance(extract, ToyExtractConfig)
    assert extract.every_n_frames == 2
    assert extract.a.input == root / "inputs" / "a.mp4"
    assert extract.detector.config.min_face_size == 24
    train = pipeline.stage("train")
    assert isinstance(train, ToyTrainConfig)
    assert [(c.name, c.config.weight) for c in train.losses] == [("reconstruction", 2.0), ("edge", 1.0)]
    assert pipeline.stage("convert") is None


def test_paths_resolve_against_the_toml_folder_not_the_cwd(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, PIPELINE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    pipeline = load(Path("../proj/pipeline.toml"))
    assert pipeline.workdir.root == path.parent.resolve() / "work"
    assert pipeline.stage("extract").a.input == path.parent.resolve() / "inputs" / "a.mp4"


def test_defaults_for_workdir_and_seed(tmp_path: Path) -> None:
    path = write(tmp_path, "[train]\n")
    pipeline = load(path)
    assert pipeline.workdir.root == path.parent.resolve() / "fswap-work"
    assert pipeline.seed == 0
    assert list(pipeline.stages) == ["train"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = 'x'\n[train]\n", "pipeline.toml: seed must be an integer, received 'x'"),
        ("workdir = 3\n[train]\n", "pipeline.toml: workdir must be a path, received 3"),
        (
            "[trian]\n",
            "pipeline.toml: unknown top-level key or section 'trian'; valid: workdir, seed, extract, train",
        ),
        ("seed = 1\n", "pipeline.toml: defines no stage; add at least one of [extract], [train]"),
        ("train = 3\n", "pipeline.toml [train]: expected a table, received 3"),
        ("[train]\niterations = 0\n", "pipeline.toml [train]: iterations must be ≥ 1, received 0"),
        (
            "[train]\nitrations = 5\n",
            "pipeline.toml [train]: unknown option 'itrations'; valid: iterations, losses. "
            "Did you mean 'iterations'?",
        ),
    ],
)
def test_pipeline_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, text))
    assert str(info.value) == message


def test_misspelt_component_in_toml(tmp_path: Path) -> None:
    text = '[extract.a]\ninput = "a.mp4"\n[extract.detector]\nuse = "mtcn"\n'
    with pytest.raises(ComponentNotFoundError) as info:
        load(write(tmp_path, text))
    message = str(info.value)
    assert message.startswith("pipeline.toml [extract.detector]: no detector named 'mtcn'. Available: mtcnn")
    assert message.endswith("Did you mean 'mtcnn'?")


def test_error_names_the_actual_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^swap\.toml \[train\]: unknown option"):
        load(write(tmp_path, "[train]\nbogus = 1\n", name="swap.toml"))


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "[train]\niterations = = 5\n")
    with pytest.raises(ConfigError) as info:
        read_toml(path)
    message = str(info.value)
    assert message.startswith("pipeline.toml: TOML syntax error:")
    assert "line 2" in message and "column" in message


def test_missing_file_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such pipeline file"):
        read_toml(tmp_path / "absent.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match=r"bin\.toml: "):
        read_toml(binary)


def test_folder_and_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"is a folder; give the pipeline \.toml file inside it"):
        read_toml(tmp_path)
    locked = tmp_path / "locked.toml"
    locked.write_text("[train]\n")

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)  # as chmod 000 would, for a non-root user
    with pytest.raises(ConfigError, match=r"locked\.toml: cannot be read \(Permission denied\)"):
        read_toml(locked)


def test_stage_check_method_sees_the_whole_pipeline(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"iterations = 13 needs an \[extract\] stage"):
        load(write(tmp_path, "[train]\niterations = 13\n"))
    both = '[extract.a]\ninput = "a.mp4"\n[train]\niterations = 13\n'
    assert load(write(tmp_path, both)).stage("train").iterations == 13


def test_parse_pipeline_accepts_an_already_parsed_table(tmp_path: Path) -> None:
    pipeline = parse_pipeline(
        {"train": {"iterations": 3}}, source=tmp_path / "p.toml", catalog=toy_catalog(), stages=TOY_STAGES
    )
    assert pipeline.stage("train").iterations == 3


def test_no_registered_stages_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown top-level key or section 'train'; valid: workdir, seed"):
        parse_pipeline({"train": {}}, source=tmp_path / "p.toml", catalog=toy_catalog(), stages=())
