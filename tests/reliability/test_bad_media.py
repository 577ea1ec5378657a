"""Bad images and videos through the real CLI: exit 2 with one line naming the file (and what is valid),
nothing lost; odd pixel formats and variable frame rates simply work. The faulty plugin's `ok` detector
stands in for a real one so no run loads TensorFlow (except the tiny-face test with the real MTCNN)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from reliability_kit import FSWAP, extract_toml, face_image, image_folder


def _faces(project: Path, side: str = "a") -> dict:
    return json.loads((project / "work" / "faces" / side / "alignments.json").read_text())


def _extract(fswap_cli, toml: Path):
    return fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")


# -- images ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("zero.png", b""),
        ("truncated.png", "half"),
        ("text.jpg", b"this is not a picture\n"),
    ],
)
def test_unreadable_image_fails_naming_it_or_is_skipped(
    tmp_path: Path, fswap_cli, name: str, content: bytes | str
) -> None:
    folder = image_folder(tmp_path / "in", 3)
    bad = folder / name
    if content == "half":
        good = cv2.imencode(".png", face_image())[1].tobytes()
        bad.write_bytes(good[: len(good) // 2])
    else:
        bad.write_bytes(content)
    done = _extract(fswap_cli, extract_toml(tmp_path, "in"))
    assert done.returncode == 2, done.stderr
    (line,) = done.error_lines
    assert str(bad) in line and "unreadable or corrupt image" in line

    done = _extract(fswap_cli, extract_toml(tmp_path, "in", extra='on_error = "skip"'))
    assert done.returncode == 0, done.stderr
    data = _faces(tmp_path)
    assert len(data["faces"]) == 3  # the good images are all kept
    assert data["meta"]["extract"]["summary"]["read_errors"] == 1


def test_odd_pixel_formats_and_a_misnamed_jpeg_are_read(tmp_path: Path, fswap_cli) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    bgr = face_image()
    cv2.imwrite(str(folder / "gray.png"), cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "rgba.png"), cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(folder / "deep16.png"), bgr.astype(np.uint16) * 257)
    (folder / "jpeg_named.png").write_bytes(cv2.imencode(".jpg", bgr)[1].tobytes())
    (folder / "notes.txt").write_text("not an image suffix: ignored")
    done = _extract(fswap_cli, extract_toml(tmp_path, "in"))
    assert done.returncode == 0, done.stderr
    data = _faces(tmp_path)
    assert len(data["faces"]) == 4
    for face in data["faces"]:
        file = tmp_path / "work" / "faces" / "a" / "faces" / face["file"]
        crop = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
        assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3


def _peak_rss_mb(args: list[str], env_path: str) -> tuple[int, float]:
    """Run `fswap ARGS` in a child of a fresh interpreter; its exit code and the child's peak RSS in MB."""
    code = (
        "import os, resource, subprocess, sys;"
        f"env = {{**os.environ, 'PYTHONPATH': {env_path!r}}};"
        f"rc = subprocess.run({[str(FSWAP), *args]!r}, env=env, capture_output=True).returncode;"
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    rc, peak = out.stdout.split()
    return int(rc), float(peak)


@pytest.mark.slow
def test_huge_images_are_processed_with_bounded_memory(tmp_path: Path, plugin_site: Path) -> None:
    """8000×8000 frames (183 MB each decoded) with batch_size = 8: frames are batched by pixels, so five
    of them peak near what one does, not at five frames' worth."""
    big = cv2.resize(face_image(), (8000, 8000), interpolation=cv2.INTER_NEAREST)
    env_path = f"{plugin_site}:{Path(__file__).parent}"
    peaks = {}
    for count in (1, 5):
        folder = tmp_path / f"in{count}"
        folder.mkdir()
        for i in range(count):
            cv2.imwrite(str(folder / f"big_{i}.png"), big, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        toml = extract_toml(tmp_path / f"p{count}", str(folder), extra="batch_size = 8")
        rc, peaks[count] = _peak_rss_mb(["run", str(toml), "--stage", "extract", "--no-progress"], env_path)
        assert rc == 0
        assert len(_faces(tmp_path / f"p{count}")["faces"]) == count
        shutil.rmtree(folder)
    frame_mb = big.nbytes / 2**20
    # the next frame is decoded while the last one is still referenced: at most two are alive at once;
    # without the pixel cap all five would sit in one batch (≥ 4 frames more than a single image)
    assert peaks[5] - peaks[1] < 2 * frame_mb, f"peak RSS {peaks} MB, one frame {frame_mb:.0f} MB"


@pytest.mark.slow
def test_tiny_image_without_a_detectable_face_names_the_thresholds(tmp_path: Path, fswap_cli) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "tiny.png"), cv2.resize(face_image(), (24, 24), interpolation=cv2.INTER_AREA))
    done = _extract(fswap_cli, extract_toml(tmp_path, "in", detector="mtcnn"))
    assert done.returncode == 2, done.stderr
    (line,) = done.error_lines
    assert "[extract.a]" in line and "no faces found in 1 frames with detector mtcnn" in line
    assert "min_face_size" in line


# -- videos ---------------------------------------------------------------------------------------------


def _ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True,
                   timeout=120)


@pytest.fixture(scope="module")
def good_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fswap.samples import make_face_video

    path = tmp_path_factory.mktemp("video") / "good.mp4"
    make_face_video(path, frames=6, size=(160, 96), fps=10, seed=3)
    return path


def _bad_video(kind: str, folder: Path, good: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "zero_bytes":
        path = folder / "zero.mp4"
        path.write_bytes(b"")
    elif kind == "garbage":
        path = folder / "garbage.mp4"
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    elif kind == "truncated":
        path = folder / "truncated.mp4"
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    else:  # audio only: a valid container without any video frame
        path = folder / "audio_only.mp4"
        _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(path))
    return path


@pytest.mark.parametrize("kind", ["zero_bytes", "garbage", "truncated", "audio_only"])
def test_unusable_video_is_one_line_naming_it(tmp_path: Path, fswap_cli, good_video: Path, kind: str) -> None:
    path = _bad_video(kind, tmp_path / "in", good_video)
    done = _extract(fswap_cli, extract_toml(tmp_path, f"in/{path.name}"))
    assert done.returncode == 2, done.stderr
    (line,) = done.error_lines
    assert str(path) in line
    assert any(w in line for w in ("cannot open the video", "not a readable video", "truncated or corrupt"))


def test_variable_frame_rate_video_reads_every_frame(tmp_path: Path, fswap_cli) -> None:
    folder = image_folder(tmp_path / "frames", 5)
    durations = [0.1, 0.3, 0.05, 0.2, 0.1]
    listing = "".join(
        f"file '{p}'\nduration {d}\n" for p, d in zip(sorted(folder.glob("*.png")), durations, strict=True)
    )
    listing += f"file '{sorted(folder.glob('*.png'))[-1]}'\n"  # the concat demuxer ignores the last duration
    (tmp_path / "list.txt").write_text(listing)
    video = tmp_path / "vfr.mp4"
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(tmp_path / "list.txt"), "-fps_mode", "vfr",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video))
    # dedupe off: the frames repeat one still, and every frame read must reach the face set
    done = _extract(fswap_cli, extract_toml(tmp_path, "vfr.mp4", extra='dedupe = "off"'))
    assert done.returncode == 0, done.stderr
    data = _faces(tmp_path)
    frames = sorted(face["frame"] for face in data["faces"])
    assert frames == list(range(len(frames))) and len(frames) >= 5
    assert data["meta"]["extract"]["summary"]["read_errors"] == 0


def test_video_without_faces_is_one_clear_line(tmp_path: Path, fswap_cli, good_video: Path) -> None:
    done = _extract(fswap_cli, extract_toml(tmp_path, str(good_video), mode="none"))
    assert done.returncode == 2
    (line,) = done.error_lines
    assert f"[extract.a] {good_video}: no faces found in 6 frames with detector faulty" in line


def test_several_faces_where_one_is_expected(tmp_path: Path, fswap_cli, good_video: Path) -> None:
    done = _extract(fswap_cli, extract_toml(tmp_path, str(good_video), mode="two"))
    assert done.returncode == 2
    (line,) = done.error_lines
    assert 'found 12 faces but kept none with policy = "single"' in line
    assert "several_faces_in_frame=12" in line
    toml = extract_toml(tmp_path, str(good_video), mode="two", extra='policy = "all"')
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress", "--fresh")
    assert done.returncode == 0, done.stderr
    assert len(_faces(tmp_path)["faces"]) == 12
