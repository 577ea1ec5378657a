"""Faults while writing: disk full (simulated by an OSError(ENOSPC) from the write call) for checkpoints,
videos, image sequences and JSON files; kill -9 in the middle of a checkpoint write.
Each leaves the previous state intact and no half-written file under a final name."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fswap.errors import FswapError, StageError, TrainingError
from fswap.files import write_json_atomic
from fswap.train.state import CheckpointStore, TrainState


def _enospc(*_: Any, **__: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class Var:
    """The little a checkpoint needs of a variable: a name, a shape, numpy() and assign()."""

    def __init__(self, name: str, value: np.ndarray) -> None:
        self.name = name
        self.value = value

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def numpy(self) -> np.ndarray:
        return self.value.copy()

    def assign(self, value: np.ndarray) -> None:
        self.value = np.array(value)


def _store(folder: Path) -> CheckpointStore:
    variables = [Var("w", np.zeros((3, 4), np.float32)), Var("b", np.zeros(4, np.float32))]
    return CheckpointStore(folder, variables)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- disk full ------------------------------------------------------------------------------------------


def test_disk_full_while_writing_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    store.variables[0].value[:] = 1.0
    store.save(TrainState(iteration=10, phase=0))
    store.variables[0].value[:] = 2.0

    def half_then_full(fh: Any, **_: Any) -> None:
        fh.write(b"PK\x03\x04 half a zip")
        _enospc()

    monkeypatch.setattr(np, "savez", half_then_full)
    with pytest.raises(TrainingError) as info:
        store.save(TrainState(iteration=20, phase=0))
    message = str(info.value)
    assert "\n" not in message and "ckpt-00000020" in message and "No space left on device" in message
    assert "previous checkpoint ckpt-00000010 is intact" in message
    assert [p.name for p in store.checkpoints()] == ["ckpt-00000010"]
    assert _leftovers(tmp_path) == [] and not (tmp_path / "ckpt-00000020").exists()
    monkeypatch.undo()
    assert store.restore().iteration == 10
    assert float(store.variables[0].value.max()) == 1.0


def test_disk_full_while_writing_a_json_file_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "summary.json"
    write_json_atomic(path, {"frames": 10})
    monkeypatch.setattr(json, "dump", lambda *a, **k: _enospc())
    with pytest.raises(StageError, match=r"summary.json: cannot write \(No space left on device\)"):
        write_json_atomic(path, {"frames": 20})
    assert json.loads(path.read_text()) == {"frames": 10}
    assert _leftovers(tmp_path) == []


def _frames(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (64, 96, 3), dtype=np.uint8) for _ in range(n)]


@pytest.mark.parametrize("writer_name", ["video", "image_sequence"])
def test_disk_full_while_writing_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer_name: str
) -> None:
    """The write call fails on the third frame: one-line error, partial output removed, old output kept."""
    import imageio_ffmpeg
    from fswap_standard.convert_config import ImageSequenceConfig, VideoWriterConfig
    from fswap_standard.writers import ImageSequenceWriter, VideoWriter

    if writer_name == "video":
        out = tmp_path / "result.mp4"
        out.write_bytes(b"the previous good output")
        real = imageio_ffmpeg.write_frames

        def failing_writer(*args: Any, **kwargs: Any) -> Any:
            gen = real(*args, **kwargs)

            def wrapped() -> Any:
                gen.send(None)  # start ffmpeg
                frame = yield
                for k in range(10**6):
                    if k == 2:
                        gen.close()
                        raise OSError(errno.ENOSPC, "No space left on device")
                    frame = yield gen.send(frame)

            return wrapped()

        monkeypatch.setattr(imageio_ffmpeg, "write_frames", failing_writer)
        writer: Any = VideoWriter(VideoWriterConfig(preset="ultrafast"))
    else:
        out = tmp_path / "frames"
        out.mkdir()
        (out / "frame_000000.png").write_bytes(b"the previous good output")
        real_write = Path.write_bytes
        calls = []

        def failing_write(self: Path, data: bytes) -> int:
            calls.append(self)
            if len(calls) == 3:
                real_write(self, data[: len(data) // 2])
                _enospc()
            return real_write(self, data)

        monkeypatch.setattr(Path, "write_bytes", failing_write)
        writer = ImageSequenceWriter(ImageSequenceConfig())
    with (
        pytest.raises(StageError) as info,
        writer.open(out, fps=10, size=(96, 64), audio_source=None) as session,
    ):
        for frame in _frames(5):
            session.write(frame)
    message = str(info.value)
    assert "\n" not in message and str(out) in message and "No space left on device" in message
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no partial file beside it
    previous = out if writer_name == "video" else out / "frame_000000.png"
    assert previous.read_bytes() == b"the previous good output"


# -- kill -9 during a checkpoint write ------------------------------------------------------------------

_KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {here!r})
    from test_faults import _store
    from fswap.train.state import TrainState

    store = _store(__import__("pathlib").Path(sys.argv[1]))
    store.variables[0].value[:] = 1.0
    store.save(TrainState(iteration=10, phase=0))
    store.variables[0].value[:] = 2.0

    def dies_half_way(fh, **arrays):
        fh.write(b"PK\\x03\\x04 half a zip")
        fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    np.savez = dies_half_way
    store.save(TrainState(iteration=20, phase=0))
    """
)


def test_kill_9_during_a_checkpoint_write_keeps_the_previous_one(tmp_path: Path) -> None:
    script = _KILLED_WRITER.format(here=str(Path(__file__).parent))
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert _leftovers(tmp_path), "the killed write should have left its temporary folder"
    store = _store(tmp_path)
    assert [p.name for p in store.checkpoints()] == ["ckpt-00000010"]
    state = store.restore()
    assert state.iteration == 10 and float(store.variables[0].value.max()) == 1.0
    store.save(TrainState(iteration=11, phase=0))  # the next save clears what the killed one left
    assert _leftovers(tmp_path) == []


def test_fswap_error_types_used_here_exit_2() -> None:
    """The errors these faults raise are user-facing FswapErrors (the CLI prints one line, exit 2)."""
    assert issubclass(TrainingError, FswapError) and issubclass(StageError, FswapError)
    assert TrainingError.exit_code == StageError.exit_code == 2
