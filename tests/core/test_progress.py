"""fswap.progress: tqdm bars that also append JSON lines to FSWAP_PROGRESS_FILE."""

from __future__ import annotations

import io
import json
import types
from pathlib import Path

import pytest

from fswap import progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_without_the_variable_it_is_a_plain_bar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    from tqdm import tqdm as base

    bar = progress.tqdm(total=3, file=io.StringIO())
    assert type(bar) is base
    bar.close()


def test_lines_are_throttled_and_the_last_one_is_written_at_close(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FakeClock
) -> None:
    out = tmp_path / "progress.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(out))
    bar = progress.tqdm(total=10, initial=2, desc="train", unit="it", file=io.StringIO())
    for _ in range(4):  # same instant: only the opening line
        bar.update(1)
    clock.now += progress.PROGRESS_INTERVAL
    bar.update(1)  # one interval later: a line
    bar.update(1)
    bar.close()
    bar.close()  # a second close writes nothing more
    got = lines(out)
    assert [r["n"] for r in got] == [2, 7, 8]
    assert set(got[0]) == {"desc", "n", "total", "unit", "rate", "elapsed"}
    assert (got[-1]["desc"], got[-1]["total"], got[-1]["unit"]) == ("train", 10, "it")


def test_a_hidden_bar_still_reports_and_iterables_count(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    out = tmp_path / "p.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(out))
    items = list(progress.tqdm(range(5), desc="evaluate faces", unit="side", disable=True))
    assert items == [0, 1, 2, 3, 4]
    got = lines(out)
    assert got[0]["n"] == 0 and got[-1]["n"] == 5 and got[-1]["total"] == 5
    assert capsys.readouterr().err == ""  # nothing drawn on the terminal


def test_an_unwritable_progress_file_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path / "missing" / "p.jsonl"))
    bar = progress.tqdm(total=2, file=io.StringIO())
    bar.update(2)
    bar.close()
    assert not (tmp_path / "missing").exists()


def test_every_stage_bar_goes_through_fswap_progress() -> None:
    """The call sites use fswap.progress.tqdm, never tqdm directly (else the studio sees no progress)."""
    root = Path(progress.__file__).parent
    direct = [str(p.relative_to(root)) for p in root.rglob("*.py")
              if "from tqdm import tqdm" in p.read_text() and p.name != "progress.py"]
    assert direct == []
    for name in ("stages/extract.py", "stages/convert.py", "stages/convert_select.py", "train/trainer.py",
                 "evaluate/evaluation.py", "data/lookalike.py"):
        assert "from fswap.progress import tqdm" in (root / name).read_text(), name
