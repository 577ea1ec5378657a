"""Made-to-order multi-person clips with known ground truth (for selection, cut and extraction tests).

Every clip is made of the two public-domain portraits of `fswap.samples`: "astronaut" plays person A (the
identity of face set a), "grace_hopper" plays person B. Each person appears as an oval cut-out of the head
(a soft-edged ellipse around the face, so nothing of one photo covers another person), moved into the frame
by a known similarity transform per frame, over a smooth textured background that changes at a shot cut.
For every frame the scene knows which person is where (`PersonBox`: face box and the bounding box of every
pixel that person touches) and which shot it belongs to, so tests can check pixel identity outside the
swapped face and that cuts and tracks are found where they are.

Clips: `crossing` (both faces move and pass each other), `leave_and_return` (person A walks out of the
picture for a while), `small_extra` (a small third face in the background), `hard_cut` (two shots of both
people) and `alternating_shots` (A and B in alternating shots, each with a small extra of the other person).
Only numpy and OpenCV are used; nothing here needs a detector.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np

from fswap.errors import InputError
from fswap.samples import _FACE_ANCHORS, _background, _load_face, similarity

PERSON_A = "astronaut"
PERSON_B = "grace_hopper"
# Half axes of the head cut-out, in face sizes (the anchor's size): wide enough for the whole face and a
# little hair, small enough that two people placed ≥ 2.6 face sizes apart never overlap.
_HEAD_RX, _HEAD_RY = 1.0, 1.25


@attrs.frozen(eq=False)
class Actor:
    """One person in one frame: which photo and the 2×3 transform photo pixels → frame pixels."""

    person: str
    matrix: np.ndarray = attrs.field(repr=False)

    @property
    def scale(self) -> float:
        return math.hypot(float(self.matrix[0, 0]), float(self.matrix[1, 0]))


@attrs.frozen
class PersonBox:
    """Where a person is in a frame: the face box and the bounding box of all their pixels, (x, y, w, h)."""

    person: str
    face: tuple[float, float, float, float]
    extent: tuple[int, int, int, int]


@attrs.frozen(eq=False)
class Scene:
    """A made-to-order clip: per frame the people in it (drawn in order) and the shot it belongs to."""

    size: tuple[int, int]
    actors: tuple[tuple[Actor, ...], ...]
    shots: tuple[int, ...]
    backgrounds: tuple[np.ndarray, ...] = attrs.field(repr=False)

    def __len__(self) -> int:
        return len(self.actors)

    @property
    def cuts(self) -> list[int]:
        """Frames that start a new shot (never frame 0)."""
        return [i for i in range(1, len(self.shots)) if self.shots[i] != self.shots[i - 1]]

    def render(self, index: int) -> np.ndarray:
        """Frame `index` as BGR uint8 (exact: no compression)."""
        frame = self.backgrounds[self.shots[index]].astype(np.float32)
        for actor in self.actors[index]:
            warped, alpha = _warp(actor, self.size)
            frame = warped * alpha + frame * (1.0 - alpha)
        return (frame + 0.5).astype(np.uint8)

    def frames(self) -> list[np.ndarray]:
        return [self.render(i) for i in range(len(self))]

    def boxes(self, index: int) -> list[PersonBox]:
        """The people visible in frame `index` (face box inside the frame), in drawing order."""
        out = []
        w, h = self.size
        for actor in self.actors[index]:
            face = face_box(actor)
            x, y, bw, bh = face
            if x < 0 or y < 0 or x + bw > w or y + bh > h:
                continue
            out.append(PersonBox(actor.person, face, _extent(actor, self.size)))
        return out

    def people(self, index: int) -> dict[str, PersonBox]:
        """Person name → where they are in frame `index` (each person appears at most once per shot)."""
        return {b.person: b for b in self.boxes(index)}

    def write_images(self, folder: Path | str) -> list[Path]:
        """Frames as lossless PNGs `000000.png`… in `folder` (so pixel identity survives the round trip)."""
        import cv2

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(len(self)):
            path = folder / f"{i:06d}.png"
            if not cv2.imwrite(str(path), self.render(i)):
                raise InputError(f"{path}: cannot write PNG")
            paths.append(path)
        return paths

    def write_video(self, path: Path | str, fps: float = 25.0) -> Path:
        """Frames as a video (.avi: MJPG, otherwise mp4v; lossy, unlike `write_images`)."""
        import cv2

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fourcc = "MJPG" if path.suffix.lower() == ".avi" else "mp4v"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), float(fps), self.size)
        if not writer.isOpened():
            raise InputError(f"{path}: OpenCV cannot write a {fourcc} video here")
        try:
            for i in range(len(self)):
                writer.write(self.render(i))
        finally:
            writer.release()
        return path


def face_box(actor: Actor) -> tuple[float, float, float, float]:
    """The photo's face square (its anchor: centre and size) moved into the frame."""
    cx, cy, size = _FACE_ANCHORS[actor.person]
    m = actor.matrix
    fx = m[0, 0] * cx + m[0, 1] * cy + m[0, 2]
    fy = m[1, 0] * cx + m[1, 1] * cy + m[1, 2]
    side = size * actor.scale
    return (float(fx - side / 2), float(fy - side / 2), float(side), float(side))


def place(person: str, centre: Sequence[float], face_px: float, angle_deg: float = 0.0) -> Actor:
    """`person` with the face centred at `centre` (frame pixels), `face_px` wide, turned by `angle_deg`."""
    cx, cy, size = _FACE_ANCHORS[person]
    matrix = similarity(face_px / size, angle_deg, (cx, cy), centre)
    matrix.setflags(write=False)
    return Actor(person, matrix)


@functools.cache
def _head_mask(person: str) -> np.ndarray:
    """A soft-edged ellipse around the face in photo pixels (float32 in [0, 1])."""
    import cv2

    photo = _load_face(person)
    cx, cy, size = _FACE_ANCHORS[person]
    mask = np.zeros(photo.shape[:2], np.float32)
    cv2.ellipse(mask, (round(cx), round(cy)), (round(_HEAD_RX * size), round(_HEAD_RY * size)), 0, 0, 360,
                1.0, -1)
    blur = max(3, round(size * 0.08)) | 1
    mask = cv2.GaussianBlur(mask, (blur, blur), 0)
    mask.setflags(write=False)
    return mask


def _warp(actor: Actor, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    photo = _load_face(actor.person)
    warped = cv2.warpAffine(photo, actor.matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)
    mask = _head_mask(actor.person)
    alpha = cv2.warpAffine(mask, actor.matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)
    return warped.astype(np.float32), alpha[:, :, None]


def _extent(actor: Actor, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Bounding box of the pixels the person touches (α > 0) in the frame."""
    _, alpha = _warp(actor, size)
    ys, xs = np.nonzero(alpha[:, :, 0] > 0)
    if len(xs) == 0:
        return (0, 0, 0, 0)
    return (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))


def _scene(size: tuple[int, int], actors: list[tuple[Actor, ...]], shots: list[int], seed: int) -> Scene:
    size = (int(size[0]), int(size[1]))
    backgrounds = tuple(_background(size, seed + 101 * s) for s in range(max(shots) + 1))
    return Scene(size=size, actors=tuple(actors), shots=tuple(shots), backgrounds=backgrounds)


def _check(frames: int, least: int = 2) -> None:
    if frames < least:
        raise ValueError(f"frames must be ≥ {least}, received {frames}")


def _wobble(n: int, frames: int, seed: int, amount: float) -> float:
    """A small seeded sinusoidal offset (pixels) so faces never move in perfectly straight lines."""
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    return amount * math.sin(2 * math.pi * n / max(frames, 1) + phase)


def crossing(
    frames: int = 12, *, size: tuple[int, int] = (320, 256), face_px: float = 48.0, seed: int = 0
) -> Scene:
    """A and B in one shot, moving in opposite directions so they pass each other (A in the upper half
    going right, B in the lower half going left; their columns cross half way)."""
    _check(frames)
    w, h = size
    actors = []
    for n in range(frames):
        t = n / (frames - 1)
        a = place(PERSON_A, (w * (0.3 + 0.4 * t), h * 0.25 + _wobble(n, frames, seed, 3)), face_px,
                  _wobble(n, frames, seed + 1, 4))
        b = place(PERSON_B, (w * (0.7 - 0.4 * t), h * 0.75 + _wobble(n, frames, seed + 2, 3)), face_px,
                  _wobble(n, frames, seed + 3, 4))
        actors.append((a, b))
    return _scene(size, actors, [0] * frames, seed)


def leave_and_return(
    frames: int = 12,
    *,
    away: tuple[int, int] | None = None,
    size: tuple[int, int] = (320, 256),
    face_px: float = 52.0,
    seed: int = 0,
) -> Scene:
    """A and B side by side; A is out of the picture for the frames in `away` (start, stop; default: the
    middle third) and then comes back at the same place. B stays throughout."""
    _check(frames, 3)
    start, stop = away if away is not None else (frames // 3, 2 * frames // 3)
    if not 0 < start < stop < frames:
        raise ValueError(f"away must be (start, stop) with 0 < start < stop < {frames}, received {away}")
    w, h = size
    actors = []
    for n in range(frames):
        b = place(PERSON_B, (w * 0.72, h * 0.5 + _wobble(n, frames, seed, 3)), face_px)
        a = place(PERSON_A, (w * 0.28 + _wobble(n, frames, seed + 1, 4), h * 0.5), face_px)
        actors.append((b,) if start <= n < stop else (a, b))
    return _scene(size, actors, [0] * frames, seed)


def small_extra(
    frames: int = 8,
    *,
    size: tuple[int, int] = (320, 256),
    face_px: float = 64.0,
    extra_px: float = 40.0,
    seed: int = 0,
) -> Scene:
    """A in the middle, and a small B in the top-right corner of the background (an extra)."""
    _check(frames, 1)
    w, h = size
    actors = []
    for n in range(frames):
        extra = place(PERSON_B, (w * 0.86, h * 0.2), extra_px)
        a = place(PERSON_A, (w * 0.4 + _wobble(n, frames, seed, 6), h * 0.55), face_px)
        actors.append((extra, a))
    return _scene(size, actors, [0] * frames, seed)


def hard_cut(
    frames: int = 12,
    *,
    cut: int | None = None,
    size: tuple[int, int] = (320, 256),
    face_px: float = 52.0,
    seed: int = 0,
) -> Scene:
    """Two shots of A and B, cut at frame `cut` (default: half way): in the second shot the background is
    another and the two people have changed places (A where B stood), so a tracker that followed boxes
    across the cut would give A's track to B."""
    _check(frames)
    cut = frames // 2 if cut is None else cut
    if not 0 < cut < frames:
        raise ValueError(f"cut must lie in 1..{frames - 1}, received {cut}")
    w, h = size
    actors, shots = [], []
    for n in range(frames):
        left = (w * 0.28 + _wobble(n, frames, seed, 3), h * 0.5)
        right = (w * 0.72, h * 0.5 + _wobble(n, frames, seed + 1, 3))
        if n < cut:
            actors.append((place(PERSON_A, left, face_px), place(PERSON_B, right, face_px)))
        else:
            actors.append((place(PERSON_B, left, face_px), place(PERSON_A, right, face_px)))
        shots.append(int(n >= cut))
    return _scene(size, actors, shots, seed)


def alternating_shots(
    shots: int = 4,
    frames_per_shot: int = 6,
    *,
    size: tuple[int, int] = (320, 256),
    face_px: float = 72.0,
    extra_px: float = 36.0,
    extra: bool = True,
    seed: int = 0,
) -> Scene:
    """Two characters in alternating shots (A first): the shot's main person large and moving slightly,
    and (with `extra`) a small copy of the other person in the background, away from the main face."""
    if shots < 1 or frames_per_shot < 1:
        raise ValueError(f"shots and frames_per_shot must be ≥ 1, received {shots} and {frames_per_shot}")
    w, h = size
    actors, shot_of = [], []
    total = shots * frames_per_shot
    for n in range(total):
        s = n // frames_per_shot
        main, other = (PERSON_A, PERSON_B) if s % 2 == 0 else (PERSON_B, PERSON_A)
        people = []
        if extra:
            corner = (w * 0.87, h * 0.19) if s % 2 == 0 else (w * 0.13, h * 0.19)
            people.append(place(other, corner, extra_px))
        centre = (w * (0.45 if s % 2 == 0 else 0.55) + _wobble(n, total, seed + s, 5), h * 0.58)
        people.append(place(main, centre, face_px, _wobble(n, total, seed + 7 * s, 3)))
        actors.append(tuple(people))
        shot_of.append(s)
    return _scene(size, actors, shot_of, seed)
