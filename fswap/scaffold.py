"""`fswap plugins new`: write a ready-to-install plugin package for one component kind.

The package is what a third party would write by hand after reading docs/plugins/guide.md: a pyproject with
the `fswap.plugins` entry point, the hook module, a config class declared with `@fswap.declare`, an
implementation that works as a simple baseline (not a stub), contract tests with `fswap.testing` and a
README. Only kinds with a baseline that needs no model weights have a template (`TEMPLATES`); the others
are refused with a message naming the ones there are. TensorFlow-free: it only writes text files.
"""

from __future__ import annotations

import keyword
import re
import string
from collections.abc import Mapping
from pathlib import Path

import attrs

from fswap.errors import ConfigError
from fswap.kinds import info

DISTRIBUTION = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


@attrs.frozen
class Template:
    """One kind's baseline: the config class body, the implementation module and one behaviour test."""

    kind: str
    summary: str
    class_name: str
    options: str
    implementation: str
    behaviour_test: str
    extra_dependencies: tuple[str, ...] = ()


_LOSS = Template(
    kind="loss",
    summary="L1 distance of the masked output to the target, optionally only where the mask is open.",
    class_name="Loss",
    options='''\
    weight: float = option(1.0, help="Weight of this term in the generator loss.", validator=at_least(0.0))
    masked_only: bool = option(False, help="Average only where the predicted mask is open (alpha > 0.5).")
''',
    implementation='''\
"""The loss term: mean |masked − target| of one side's batch (TensorFlow is imported here only)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from fswap.losses import LossInputs, LossTerm


class $class_name(LossTerm):
    """mean(|masked − target|); with `masked_only`, averaged where the mask is open."""

    def generator_loss(self, x: LossInputs) -> Any:
        error = tf.abs(x.masked - x.target)
        if not self.config.masked_only:
            return tf.reduce_mean(error)
        weights = tf.cast(x.alpha > 0.5, error.dtype)
        return tf.reduce_sum(error * weights) / (3.0 * tf.reduce_sum(weights) + 1e-6)
''',
    behaviour_test='''\
def test_the_loss_is_zero_for_a_perfect_output_and_grows_with_the_error() -> None:
    import tensorflow as tf

    from fswap.losses import LossInputs

    target = tf.random.stateless_uniform((2, 16, 16, 3), seed=(1, 2), minval=-1.0, maxval=1.0)
    alpha = tf.ones((2, 16, 16, 1))

    def loss_of(output: tf.Tensor) -> float:
        x = LossInputs(warped=target, target=target, alpha=alpha, bgr=output, masked=output)
        return float(build_component().generator_loss(x))

    assert loss_of(target) == 0.0
    assert abs(loss_of(target + 0.1) - 0.1) < 1e-5
    assert loss_of(target + 0.2) > loss_of(target + 0.1)
''',
)

_BLENDER = Template(
    kind="blender",
    summary="Pastes the generated face by its mask, with the mask's edge softened by a Gaussian blur.",
    class_name="Blender",
    options='''\
    blur: int = option(0, help="Gaussian blur (pixels, 0 = none) of the mask's edge inside the face.",
                       validator=at_least(0))
''',
    implementation='''\
"""The blender: warp the generated crop and its mask back into the frame and mix by the mask."""

from __future__ import annotations

import cv2
import numpy as np


class $class_name:
    """frame · (1 − α) + generated · α, α warped back from the crop (softened inside the face)."""

    def __init__(self, config) -> None:
        self.config = config

    def blend(self, frame: np.ndarray, generated: np.ndarray, alpha: np.ndarray, matrix: np.ndarray
              ) -> np.ndarray:
        h, w = frame.shape[:2]
        alpha = np.clip(alpha.astype(np.float32), 0.0, 1.0)
        if self.config.blur > 0:  # blur, then keep the result inside the original mask (never widens it)
            size = 2 * self.config.blur + 1
            alpha = np.minimum(cv2.GaussianBlur(alpha, (size, size), 0), alpha)
        inverse = cv2.invertAffineTransform(np.asarray(matrix, np.float64))
        face = cv2.warpAffine(generated, inverse, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        a = cv2.warpAffine(alpha, inverse, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=0.0)[..., None]
        mixed = a * face.astype(np.float32) + (1.0 - a) * frame.astype(np.float32)
        out = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
        return np.where(a > 0, out, frame)  # exactly the frame wherever alpha is 0
''',
    behaviour_test='''\
def test_an_opaque_mask_pastes_the_generated_colour_at_the_face() -> None:
    import numpy as np

    from fswap.testing import sample_aligned_face, sample_detection, sample_frame

    face, frame = sample_aligned_face("astronaut", size=64), sample_frame("astronaut")
    green = np.full((64, 64, 3), (0, 255, 0), np.uint8)
    out = build_component().blend(frame, green, np.ones((64, 64), np.float32), face.matrix)
    x, y = (int(v) for v in sample_detection("astronaut").landmarks[2])  # the nose
    assert tuple(out[y, x]) == (0, 255, 0)
''',
    extra_dependencies=("opencv-python-headless",),
)

_COLOR_TRANSFER = Template(
    kind="color_transfer",
    summary="Matches each colour channel's mean and spread to the face it replaces, inside the mask.",
    class_name="ColorTransfer",
    options='''\
    strength: float = option(1.0, help="How far to move the colours (0 = unchanged, 1 = fully matched).",
                             validator=between(0.0, 1.0))
''',
    implementation='''\
"""The colour transfer: per-channel mean and standard deviation matched inside the mask."""

from __future__ import annotations

import numpy as np


class $class_name:
    """Shift and scale each BGR channel of the generated crop to the reference's statistics."""

    def __init__(self, config) -> None:
        self.config = config

    def transfer(self, generated: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
        inside = mask > 0.5
        if not inside.any():
            return generated.copy()
        src, ref = generated.astype(np.float32), reference.astype(np.float32)
        mean_s, mean_r = src[inside].mean(axis=0), ref[inside].mean(axis=0)
        std_s, std_r = src[inside].std(axis=0) + 1e-3, ref[inside].std(axis=0) + 1e-3
        matched = (src - mean_s) * (std_r / std_s) + mean_r
        out = src + self.config.strength * (matched - src)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
''',
    behaviour_test='''\
def test_a_colour_cast_is_undone() -> None:
    import numpy as np

    from fswap.testing import sample_aligned_face

    reference = sample_aligned_face("astronaut", size=64).image
    cast = np.clip(reference.astype(np.int16) + (25, -15, 10), 0, 255).astype(np.uint8)
    mask = np.ones((64, 64), np.float32)
    out = build_component().transfer(cast, reference, mask)
    before = np.abs(cast.astype(float).mean((0, 1)) - reference.mean((0, 1))).max()
    after = np.abs(out.astype(float).mean((0, 1)) - reference.mean((0, 1))).max()
    assert after < 0.2 * before
''',
)

_MASK_GENERATOR = Template(
    kind="mask_generator",
    summary="The convex hull of the face's landmarks, grown or shrunk by a share of its size.",
    class_name="MaskGenerator",
    options='''\
    grow: float = option(0.0, help="Grow (> 0) or shrink (< 0) the hull by this share of the crop size.",
                         validator=between(-0.3, 0.3))
''',
    implementation='''\
"""The mask generator: the landmarks' convex hull in the aligned crop."""

from __future__ import annotations

import cv2
import numpy as np


class $class_name:
    """1 inside the convex hull of the crop landmarks (scaled about their centre by `grow`), 0 outside."""

    def __init__(self, config) -> None:
        self.config = config

    def generate(self, face) -> np.ndarray:
        points = np.asarray(face.crop_landmarks, np.float64)
        centre = points.mean(axis=0)
        spread = max(float(np.abs(points - centre).max()), 1.0)
        scale = max(0.05, 1.0 + self.config.grow * face.size / spread)
        hull = cv2.convexHull(np.rint(centre + (points - centre) * scale).astype(np.int32))
        mask = np.zeros((face.size, face.size), np.uint8)
        cv2.fillConvexPoly(mask, hull, 1)
        return mask.astype(np.float32)
''',
    behaviour_test='''\
def test_the_hull_covers_the_landmarks_and_grow_widens_it() -> None:
    import numpy as np

    from fswap.testing import sample_aligned_face

    face = sample_aligned_face("astronaut", size=128)
    mask = build_component().generate(face)
    for x, y in np.rint(face.crop_landmarks).astype(int):
        assert mask[min(y, 127), min(x, 127)] == 1.0
    assert build_component(grow=0.1).generate(face).sum() > mask.sum()
''',
    extra_dependencies=("opencv-python-headless",),
)

_TRACKER = Template(
    kind="tracker",
    summary="Keeps each face's id by box overlap from frame to frame and holds it through missed frames.",
    class_name="Tracker",
    options='''\
    min_iou: float = option(0.3, help="Box overlap (IoU) that continues a track.",
                            validator=between(0.0, 1.0))
    max_missed: int = option(5, help="Frames a track is held without a matching detection.",
                             validator=at_least(0))
''',
    implementation='''\
"""The tracker: greedy box-overlap matching, no smoothing; a track holds its last box while missed."""

from __future__ import annotations

from fswap import Detection, TrackedFace
from fswap.convert.tracking import iou


class $class_name:
    """Each detection continues the live track it overlaps most (IoU ≥ `min_iou`) or starts a new one."""

    def __init__(self, config) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._tracks: dict[int, tuple[Detection, int]] = {}  # id -> (last detection, frames missed)
        self._next_id = 0

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        if detections is None:  # detection skipped: every live track is predicted where it was
            return [TrackedFace(track_id=i, detection=d, observed=False)
                    for i, (d, _) in self._tracks.items()]
        out, free = [], dict(self._tracks)
        for det in sorted(detections, key=lambda d: -d.confidence):
            best = max(free, key=lambda i: iou(free[i][0].box, det.box), default=None)
            if best is None or iou(free[best][0].box, det.box) < self.config.min_iou:
                best, self._next_id = self._next_id, self._next_id + 1
            else:
                del free[best]
            self._tracks[best] = (det, 0)
            out.append(TrackedFace(track_id=best, detection=det, observed=True))
        for i, (det, missed) in free.items():  # unmatched tracks: held, then dropped
            if missed + 1 > self.config.max_missed:
                del self._tracks[i]
            else:
                self._tracks[i] = (det, missed + 1)
        return out
''',
    behaviour_test='''\
def test_two_faces_keep_their_ids_and_a_lost_face_is_dropped() -> None:
    import numpy as np

    from fswap import Detection

    def face(x: float) -> Detection:
        points = [[x + 25, 80], [x + 55, 80], [x + 40, 95], [x + 28, 110], [x + 52, 110]]
        return Detection(box=(x, 50.0, 80.0, 80.0), confidence=0.9, landmarks=np.array(points, float))

    tracker = build_component(max_missed=1)
    first = {round(t.detection.box[0]): t.track_id for t in tracker.update(0, [face(10), face(300)])}
    second = {round(t.detection.box[0]): t.track_id for t in tracker.update(1, [face(302), face(14)])}
    assert first == {10: first[10], 300: first[300]} and first[10] != first[300]
    assert second == {14: first[10], 302: first[300]}
    tracker.update(2, [face(16)])
    tracker.update(3, [face(18)])
    assert [t.track_id for t in tracker.update(4, [face(300)])] == [2]  # the right face was dropped: a new id
''',
)

TEMPLATES: Mapping[str, Template] = {t.kind: t for t in (_LOSS, _BLENDER, _COLOR_TRANSFER, _MASK_GENERATOR,
                                                        _TRACKER)}
"""The kinds `fswap plugins new` can write, each with a working baseline."""


_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "$summary"
readme = "README.md"
requires-python = ">=3.11"
dependencies = [$dependencies]

[project.optional-dependencies]
test = ["pytest"]

# fswap finds the plugin through this entry point: the name ("$plugin") is the plugin's name, the value the
# module whose hook registers the components.
[project.entry-points."fswap.plugins"]
$plugin = "$module"

[tool.setuptools.packages.find]
where = ["src"]
'''

_INIT = '''\
"""$distribution: a $kind for fswap ("$component"). The hook below registers what config.py declares;
this module imports only fswap and the config, so plugin discovery stays cheap."""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from $module import config

__version__ = "0.1.0"


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
'''

_CONFIG = '''\
"""The options of "$component", and its declaration: kind, name and the implementation to build."""

from __future__ import annotations

import attrs

from fswap import Kind, declare, option
from fswap.options import at_least, between  # noqa: F401  (validators for new options)


@declare(Kind.$kind_member, "$component", factory="$module.$kind_module:$class_name")
@attrs.frozen(kw_only=True)
class ${class_name}Config:
    """$summary"""

$options'''

_TEST = '''\
"""Contract and behaviour tests of "$component", with fswap's plugin-author kit (fswap.testing)."""

from __future__ import annotations

from typing import Any

from $module import config as plugin_config
from $module.config import ${class_name}Config

from fswap import api, declared
from fswap.testing import $check, check_spec


def build_component(**options: Any) -> Any:
    """The component as a pipeline would build it, from its name and options."""
    return api.build("$kind", "$component", **options)


def test_the_declaration_follows_the_static_contract() -> None:
    (spec,) = declared(plugin_config)
    assert (spec.name, spec.config) == ("$component", ${class_name}Config)
    check_spec(spec)


def test_the_component_passes_its_kind_s_contract_check() -> None:
    $check(declared(plugin_config)[0])


$behaviour_test'''

_README = '''\
# $distribution

A $kind for [fswap](https://pypi.org/project/fswap/): `$component`. $summary

Made by `fswap plugins new`; a working baseline to change into your own component.

## Use

```bash
pip install -e '.[test]'
fswap plugins list          # shows $component under $kind
fswap plugins show $kind $component
pytest                      # the contract tests (fswap.testing) and a behaviour test
```

$usage

## Layout

- `src/$module/config.py`: the options (a frozen attrs class) and `@fswap.declare`, the one place that says
  what the component is: kind, name, and the `module:Class` fswap builds when a pipeline uses it.
- `src/$module/$kind_module.py`: the implementation, imported only when a pipeline uses it.
- `src/$module/__init__.py`: the hook fswap calls to learn the components.
- `tests/test_plugin.py`: `fswap.testing.$check` holds the kind's contract (`fswap docs contracts`).
'''

USAGE = {
    "loss": "In a pipeline: `[train.losses.$component]` with `weight = 1.0` (a [train.losses] table replaces "
            "the recipe's list, so name every term you want).",
    "blender": "In a pipeline: `[convert.blender]` with `use = \"$component\"`.",
    "color_transfer": "In a pipeline: `[convert.color]` with `use = \"$component\"`.",
    "mask_generator": "In a pipeline: `[extract.masks.$component]` (its masks are stored with the faces).",
    "tracker": "In a pipeline: `[convert.tracker]` with `use = \"$component\"`.",
}


@attrs.frozen
class Names:
    """The names of a new plugin, all derived from the distribution name unless given."""

    distribution: str
    module: str
    plugin: str
    component: str


def names_for(distribution: str, component: str | None = None) -> Names:
    """Distribution `fswap-sharp-blend` → module `fswap_sharp_blend`, plugin and component `sharp_blend`."""
    if not DISTRIBUTION.match(distribution):
        raise ConfigError(f"plugin name {distribution!r} must be lower-case letters and digits, words "
                          "joined by '-' or '_' (e.g. fswap-sharp-blend)")
    module = distribution.replace("-", "_")
    if keyword.iskeyword(module):
        raise ConfigError(f"plugin name {distribution!r} would make the module {module!r}, a Python keyword; "
                          f"choose another (e.g. fswap-{distribution})")
    plugin = module.removeprefix("fswap_") or module
    name = component or plugin
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(f"component name {name!r} must be lower-case letters, digits and '_'")
    return Names(distribution=distribution, module=module, plugin=plugin, component=name)


def render(kind: str, names: Names) -> dict[str, str]:
    """The files of the new package, by path relative to its folder."""
    if kind not in TEMPLATES:
        known = ", ".join(sorted(TEMPLATES))
        raise ConfigError(f"fswap plugins new: no template for kind {kind!r} yet; templates: {known}")
    t = TEMPLATES[kind]
    kind_module = kind if kind != "loss" else "loss_term"
    deps = ", ".join(f'"{d}"' for d in ("fswap>=0.2", *t.extra_dependencies))
    fields = {"distribution": names.distribution, "module": names.module, "plugin": names.plugin,
              "component": names.component, "kind": kind, "kind_member": kind.upper(),
              "kind_module": kind_module, "class_name": _camel(names.component) + t.class_name,
              "summary": t.summary, "options": t.options, "dependencies": deps,
              "check": info(kind).check.rsplit(":", 1)[-1]}
    fields["usage"] = string.Template(USAGE[kind]).substitute(fields)
    fields["behaviour_test"] = t.behaviour_test

    def fill(text: str) -> str:
        return string.Template(text).substitute(fields)

    src = f"src/{names.module}"
    return {
        "pyproject.toml": fill(_PYPROJECT),
        "README.md": fill(_README),
        f"{src}/__init__.py": fill(_INIT),
        f"{src}/config.py": fill(_CONFIG),
        f"{src}/{kind_module}.py": fill(t.implementation),
        "tests/test_plugin.py": fill(_TEST),
    }


def write_package(kind: str, names: Names, folder: Path) -> Path:
    """Write the package into `folder`/<distribution>; refuses to overwrite an existing folder."""
    files = render(kind, names)
    root = Path(folder) / names.distribution
    if root.exists():
        raise ConfigError(f"{root} already exists; choose another name or --dir")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
