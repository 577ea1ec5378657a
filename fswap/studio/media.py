"""Face sets and convert tracks for the studio's page: which images to show, and track thumbnails.

Face thumbnails are the face set's own PNGs (and its mask PNGs). Track thumbnails are cropped from the
[convert] input at each track's largest face (the frame and box tracks.json records), the same crop the
contact sheet draws (fswap.convert.contact.face_thumbnail); they are made once, into
<workdir>/studio/tracks/, which imports OpenCV on first use (never TensorFlow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fswap.config import PipelineConfig
from fswap.studio.state import file_url, read_json

MAX_FACES = 48


def evenly_spaced(count: int, limit: int = MAX_FACES) -> list[int]:
    """At most `limit` indices of range(count), spread evenly from the first to the last."""
    if count <= limit:
        return list(range(count))
    if limit == 1:
        return [0]
    return [round(i * (count - 1) / (limit - 1)) for i in range(limit)]


def faceset(config: PipelineConfig, side: str) -> dict[str, Any]:
    """{"faces": [{"image", "mask", "name"}], "count"} of face set `side` (at most MAX_FACES shown)."""
    root = config.workdir.root
    folder = config.workdir.faceset(side)
    data = read_json(folder / "alignments.json")
    if not isinstance(data, dict):
        return {"faces": [], "count": 0}
    records = [r for r in data.get("faces") or [] if isinstance(r, dict) and r.get("file")]
    masks = [m for m in data.get("masks") or [] if isinstance(m, str)]
    faces = []
    for i in evenly_spaced(len(records)):
        name = str(records[i]["file"])
        mask = next((url for m in masks if (url := file_url(root, folder / "masks" / m / name))), None)
        faces.append({"image": file_url(root, folder / "faces" / name), "mask": mask, "name": name})
    return {"faces": faces, "count": len(records)}


def _thumbnail(config: PipelineConfig, track: dict[str, Any], out: Path) -> bool:
    """Crop the track's largest face from the convert input into `out` (False when it cannot)."""
    import cv2

    from fswap.convert.contact import face_thumbnail
    from fswap.errors import FswapError
    from fswap.video.reader import open_frames

    convert = config.stage("convert")
    box = track.get("thumbnail_box")
    frame_index = track.get("thumbnail_frame")
    if convert is None or not box or frame_index is None or float(box[2]) <= 0:
        return False
    try:
        frames = list(open_frames(convert.input, start=int(frame_index), stop=int(frame_index) + 1))
    except FswapError:
        return False
    if not frames:
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    if not cv2.imwrite(str(tmp), face_thumbnail(frames[0][1], box)):
        return False
    tmp.replace(out)
    return True


def tracks(config: PipelineConfig) -> dict[str, Any]:
    """convert/tracks.json with a "thumbnail" URL per track (None where no crop could be made)."""
    root = config.workdir.root
    path = config.workdir.convert / "tracks.json"
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("tracks"), list):
        return {"tracks": []}
    folder = root / "studio" / "tracks"
    stamp = path.stat().st_mtime_ns
    rows = []
    for track in data["tracks"]:
        if not isinstance(track, dict):
            continue
        out = folder / f"track-{track.get('track_id')}-{stamp}.png"  # remade when tracks.json changes
        made = out.is_file() or _thumbnail(config, track, out)
        rows.append({**track, "thumbnail": file_url(root, out) if made else None})
    result = {k: v for k, v in data.items() if k != "frames"}  # per-frame rows are large and not shown
    return {**result, "tracks": rows}
