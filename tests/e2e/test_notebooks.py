"""The example notebooks (examples/notebooks/*.ipynb) are stripped of outputs in the repository, and each one
runs at tiny settings: `TINY = True` and a temporary `OUT` are injected after its parameters cell
(papermill-style, in memory: the repository is not written), it is executed with nbclient in a kernel of this
very Python, and what it says it writes is checked, as are the images it displays."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")  # the test extra has them; a bare install skips these tests
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "examples" / "notebooks"
NAMES = ["detect_align_video", "eye_masks", "train", "convert_video", "all_in_one"]
KERNEL = "fswap-test-python"


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def parameters_index(nb: nbformat.NotebookNode) -> int:
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"one cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def with_tiny(nb: nbformat.NotebookNode, out: Path) -> nbformat.NotebookNode:
    """A copy with papermill's 'injected-parameters' cell (TINY = True, OUT) after the parameters cell."""
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(f"TINY = True\nOUT = {str(out)!r}")
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(parameters_index(nb) + 1, cell)
    return nb


@pytest.fixture(scope="module")
def kernel_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A kernelspec running ipykernel in this interpreter (sys.executable), whatever kernels the user has."""
    from ipykernel.kernelspec import write_kernel_spec

    folder = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(folder / KERNEL)
    spec = json.loads((folder / KERNEL / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return [str(folder)]


def execute(name: str, tmp_path: Path, kernel_dirs: list[str]) -> tuple[nbformat.NotebookNode, Path]:
    """Run notebook `name` at tiny settings in tmp_path/run with OUT = tmp_path/out; returns it executed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    nb = with_tiny(read(name), out)
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    client = nbclient.NotebookClient(nb, km=km, timeout=300, resources={"metadata": {"path": str(run)}})
    client.execute()
    assert not list(run.iterdir()), "the notebook wrote outside OUT"
    return nb, out


def outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def images(nb: nbformat.NotebookNode) -> list[np.ndarray]:
    """Every PNG the notebook displayed, decoded."""
    import base64

    found = []
    for output in outputs(nb):
        data = output.get("data", {}).get("image/png")
        if data:
            found.append(cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR))
    return found


def printed(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in outputs(nb) if o.get("output_type") == "stream")


def videos(nb: nbformat.NotebookNode) -> list[str]:
    return [o["data"]["text/html"] for o in outputs(nb)
            if "<video" in o.get("data", {}).get("text/html", "")]


def video_frames(path: Path) -> list[tuple[int, ...]]:
    reader = cv2.VideoCapture(str(path))
    shapes = []
    while (frame := reader.read()[1]) is not None:
        shapes.append(frame.shape)
    reader.release()
    return shapes


# --------------------------------------------------------------------------------------------------
# as committed
# --------------------------------------------------------------------------------------------------


def test_the_five_notebooks_are_there() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stripped_and_parametrised(name: str) -> None:
    nb = read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"{name}: outputs left in {cell.id}"
    assert all("execution" not in cell.metadata for cell in nb.cells)
    params = nb.cells[parameters_index(nb)]
    assert params.cell_type == "code" and "TINY = False" in params.source
    assert "OUT = " in params.source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "Time on a CPU" in nb.cells[0].source  # the intro says how long it takes


def test_injection_follows_the_parameters_cell(tmp_path: Path) -> None:
    nb = with_tiny(read("train"), tmp_path)
    index = parameters_index(nb)
    assert nb.cells[index + 1].source == f"TINY = True\nOUT = {str(tmp_path)!r}"
    assert len(read("train").cells) == len(nb.cells) - 1  # the file itself is untouched


# --------------------------------------------------------------------------------------------------
# executed at tiny settings
# --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_detect_align_video_notebook(tmp_path: Path, kernel_dirs: list[str]) -> None:
    nb, out = execute("detect_align_video", tmp_path, kernel_dirs)
    crops = sorted((out / "faces").glob("*.png"))
    assert len(crops) == 6  # the synthetic clip's one face in each of its 6 frames
    assert cv2.imread(str(crops[0])).shape == (256, 256, 3)
    records = json.loads((out / "faces.json").read_text())
    assert [r["frame"] for r in records] == list(range(6))
    assert np.asarray(records[0]["matrix"]).shape == (2, 3)
    shown = images(nb)
    assert shown[0].shape[0] == 240  # the marked first frame
    assert any(image.shape[:2] == (256, 256) for image in shown)  # the aligned crop of step 1
    assert "6 faces in 6 frames" in printed(nb)
    error = float(printed(nb).split("largest eye-point error: ")[1].split(" px")[0])
    assert error < 4.0


@pytest.mark.slow
def test_eye_masks_notebook(tmp_path: Path, kernel_dirs: list[str]) -> None:
    nb, out = execute("eye_masks", tmp_path, kernel_dirs)
    for stem in ("astronaut_0", "grace_hopper_0"):
        assert cv2.imread(str(out / "faces" / f"{stem}.png")).shape == (256, 256, 3)
        for kind in ("eyes5", "eyes68"):
            mask = cv2.imread(str(out / "masks" / kind / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
            assert set(np.unique(mask)) == {0, 255}  # binary and not empty
            assert np.count_nonzero(mask[:128]) > 0 and np.count_nonzero(mask[128:]) == 0  # the eyes
    shown = images(nb)
    assert len(shown) >= 5  # the inputs, the step-by-step rows, one row per face
    assert "values: [0, 255] [0, 255]" in printed(nb)


@pytest.mark.slow
def test_train_notebook(tmp_path: Path, kernel_dirs: list[str]) -> None:
    nb, out = execute("train", tmp_path, kernel_dirs)
    work = out / "work"
    for side in ("a", "b"):
        assert len(list((work / "faces" / side / "faces").glob("*.png"))) == 6
        assert len(list((work / "faces" / side / "masks" / "eyes5").glob("*.png"))) == 6
    history = (work / "model" / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in history[1:]] == ["1"]  # trained the 1 tiny iteration
    assert (work / "model" / "export" / "model.json").is_file()
    previews = sorted(p.name for p in (work / "model" / "previews").glob("preview_*.png"))
    assert previews == ["preview_00000001.png"]
    preview = cv2.imread(str(work / "model" / "previews" / "latest.png"))
    assert any(image.shape == preview.shape for image in images(nb))  # watching_training showed it
    assert "iteration 1 of 1" in printed(nb)


@pytest.mark.slow
def test_convert_video_notebook(tmp_path: Path, kernel_dirs: list[str]) -> None:
    nb, out = execute("convert_video", tmp_path, kernel_dirs)
    video = out / "work" / "convert" / "a_a_to_b.mp4"
    assert video_frames(video) == [(180, 2 * 320, 3)] * 6  # source | result, every frame
    tracks = json.loads((out / "work" / "convert" / "tracks.json").read_text())
    assert [len(f["faces"]) for f in tracks["frames"]] == [1] * 6
    shown = images(nb)
    assert shown[0].shape == (192, 4 * 192 + 3 * 4, 3)  # aligned crop | generator input | swap | mask
    assert any(image.shape == (240, 2 * 240 * 320 // 180, 3) for image in shown)  # a converted frame
    assert len(videos(nb)) == 1 and "base64" in videos(nb)[0]  # embedded


@pytest.mark.slow
def test_all_in_one_notebook(tmp_path: Path, kernel_dirs: list[str]) -> None:
    nb, out = execute("all_in_one", tmp_path, kernel_dirs)
    work = out / "work"
    history = (work / "model" / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in history[1:]] == ["1"]
    assert len(video_frames(work / "convert" / "a_a_to_b.mp4")) == 6
    report = json.loads((work / "evaluate" / "report.json").read_text())
    assert report["inputs"]["faces_in_a"] == report["inputs"]["faces_in_b"] == 6
    assert report["temporal"]["faces_seen"] == 6
    assert (work / "evaluate" / "report.html").stat().st_size > 1000
    assert len(images(nb)) >= 5  # two contact sheets, the preview, the loss plot, a frame, the comparison
    assert len(videos(nb)) == 1
