"""Deployable generators: one direction of a trained model as ONNX or a TensorFlow SavedModel.

`fswap export MODEL --format onnx|savedmodel` writes, per direction, a generator that takes uint8 BGR faces
(N, R, R, 3) (plus the float condition maps of a conditioned decoder) and returns α float32 (N, R, R) in
[0, 1] and BGR uint8 (N, R, R, 3), with fswap's metadata inside: direction, resolution, inputs and outputs,
the saved model's model.json, a digest of the network files it came from, and a note that its outputs are
synthetic media. The pixel arithmetic is the Keras path's (`FaceGenerator`), so the outputs agree.

`OnnxGenerator` runs an ONNX export through ONNX Runtime with `FaceGenerator`'s interface; `[convert]
runtime = "onnx"` uses it, re-exporting first when the saved networks changed since the last export.
Imports TensorFlow (export) or ONNX Runtime (inference) only when called.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from fswap import __version__
from fswap.errors import ConfigError, InputError, StageError
from fswap.model.face_batch import face_batch

log = logging.getLogger("fswap.model")

FORMATS: tuple[str, ...] = ("onnx", "savedmodel")
DIRECTIONS: tuple[str, ...] = ("a_to_b", "b_to_a")
ONNX_OPSET = 17
METADATA_FILE = "fswap.json"
"""The export's metadata beside a SavedModel (an ONNX file carries it in its metadata_props)."""
PROVENANCE = ("fswap face-swap generator: every face it outputs is synthetic media and must be marked "
              "as such where it is shown.")
INSTALL_HINT = "install the ONNX extra: pip install 'fswap[onnx]'"


def export_path(model_dir: Path, direction: str, fmt: str) -> Path:
    """Where `fswap export` puts `direction`'s generator by default: <model>/<format>/generator_<direction>
    (.onnx for ONNX; a folder for a SavedModel)."""
    _check(direction, fmt)
    name = f"generator_{direction}" + (".onnx" if fmt == "onnx" else "")
    return Path(model_dir) / fmt / name


def _check(direction: str, fmt: str) -> None:
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be one of {', '.join(DIRECTIONS)}, received {direction!r}")
    if fmt not in FORMATS:
        raise ConfigError(f"export format must be one of {', '.join(FORMATS)}, received {fmt!r}")


def source_digest(model_dir: Path, direction: str) -> str:
    """SHA-256 over model.json and the two network files `direction` uses: an export whose recorded digest
    differs was made from other weights (training went on since)."""
    from fswap.model.generator import DIRECTIONS as DECODERS
    from fswap.model.io import METADATA, read_metadata

    folder = Path(model_dir)
    metadata = read_metadata(folder)
    digest = hashlib.sha256()
    for name in (METADATA, *(metadata.get("files", {}).get(n, f"{n}.keras")
                             for n in ("encoder", DECODERS[direction]))):
        path = folder / name
        if not path.is_file():
            raise InputError(f"{path}: missing file of the saved model")
        digest.update(name.encode())
        with path.open("rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def export_metadata(generator: Any, direction: str, digest: str) -> dict[str, str]:
    """The string metadata stored with an export (ONNX metadata_props take strings only); `digest` is the
    networks' `source_digest`."""
    r, channels = generator.resolution, generator.condition_channels
    inputs = f"faces: uint8 BGR (N, {r}, {r}, 3)"
    if channels:
        inputs += f"; condition: float32 (N, {r}, {r}, {channels}) in [0, 1]"
    return {
        "fswap_version": __version__,
        "direction": direction,
        "resolution": str(r),
        "condition_channels": str(channels),
        "inputs": inputs,
        "outputs": f"alpha: float32 (N, {r}, {r}) in [0, 1]; bgr: uint8 (N, {r}, {r}, 3)",
        "source_digest": digest,
        "model_json": json.dumps(generator.metadata, sort_keys=True),
        "provenance": PROVENANCE,
    }


def serving_function(generator: Any) -> Any:
    """A tf.function over uint8 faces (and condition maps) returning {"alpha", "bgr"}, with the arithmetic
    of `FaceGenerator.__call__`; its batch dimension is free."""
    import tensorflow as tf

    r, channels, model = generator.resolution, generator.condition_channels, generator.model

    def outputs(abgr: Any) -> dict[str, Any]:
        bgr = tf.cast(tf.clip_by_value(tf.round((abgr[..., 1:] + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
        return {"alpha": abgr[..., 0], "bgr": bgr}

    faces_spec = tf.TensorSpec([None, r, r, 3], tf.uint8, name="faces")
    if channels:
        condition_spec = tf.TensorSpec([None, r, r, channels], tf.float32, name="condition")

        @tf.function(input_signature=[faces_spec, condition_spec])
        def serve_conditioned(faces: Any, condition: Any) -> dict[str, Any]:
            x = tf.cast(faces, tf.float32) / 127.5 - 1.0
            return outputs(tf.cast(model([x, condition], training=False), tf.float32))

        return serve_conditioned

    @tf.function(input_signature=[faces_spec])
    def serve(faces: Any) -> dict[str, Any]:
        x = tf.cast(faces, tf.float32) / 127.5 - 1.0
        return outputs(tf.cast(model(x, training=False), tf.float32))

    return serve


def export_generator(model_dir: Path, direction: str, fmt: str, output: Path | None = None, *,
                     digest: str | None = None) -> Path:
    """Write `direction`'s generator of the saved model in `model_dir` as `fmt` (atomically: a failed export
    leaves an earlier one as it was); returns the path written. `digest`: the networks' `source_digest`, if
    the caller has it (so the files are not read twice)."""
    from fswap.model.generator import FaceGenerator

    _check(direction, fmt)
    out = Path(output) if output is not None else export_path(model_dir, direction, fmt)
    generator = FaceGenerator.load(Path(model_dir), direction)
    if digest is None:
        digest = source_digest(Path(model_dir), direction)
    metadata = export_metadata(generator, direction, digest)
    serve = serving_function(generator)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if fmt == "onnx":
            written = _write_onnx(serve, metadata, tmp / out.name)
            _verify_onnx(written, generator, direction, out)
            os.replace(written, out)
        else:
            _write_savedmodel(generator, serve, metadata, tmp / "model")
            _replace_folder(tmp / "model", out)
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise StageError(f"{out}: the {fmt} export of {direction} failed ({type(exc).__name__}: {exc}); an "
                         "earlier export there is unchanged") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s generator to %s", direction, out)
    return out


def _write_onnx(serve: Any, metadata: dict[str, str], path: Path) -> Path:
    try:
        import tf2onnx
    except ImportError as exc:
        raise ConfigError(f"exporting ONNX needs tf2onnx ({exc}); {INSTALL_HINT}") from exc
    proto, _ = tf2onnx.convert.from_function(serve, input_signature=serve.input_signature, opset=ONNX_OPSET)
    proto.producer_name = "fswap"
    proto.producer_version = __version__
    proto.doc_string = PROVENANCE
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    path.write_bytes(proto.SerializeToString())
    return path


PROBE_FACES = 3
"""Faces the exporter runs through both runtimes before it keeps an ONNX file."""


def _verify_onnx(path: Path, generator: Any, direction: str, where: Path) -> None:
    """Run a few faces through the new ONNX file and through Keras; a file that ONNX Runtime cannot run, or
    that answers differently, is not kept. (tf2onnx 1.17's graph rewrites break a self-attention layer
    whose keys have a single channel, i.e. under 16 feature channels: only tiny test networks.)"""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        log.warning("%s: onnxruntime is not installed, so the export was not checked against Keras", path)
        return
    r = generator.resolution
    faces = np.random.default_rng(0).integers(0, 256, (PROBE_FACES, r, r, 3), dtype=np.uint8)
    cond = (np.random.default_rng(1).random((PROBE_FACES, r, r, generator.condition_channels), np.float32)
            if generator.condition_channels else None)
    want_bgr, want_alpha = generator(faces, cond)
    try:
        got_bgr, got_alpha = OnnxGenerator(path, batch_size=2)(faces, cond)  # a full and a partial batch
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise StageError(f"{where}: the ONNX graph tf2onnx made of the {direction} generator does not run in "
                         f"ONNX Runtime ({' '.join(str(exc).split())[:300]}); an earlier export there is "
                         "unchanged") from exc
    alpha_gap = float(np.abs(got_alpha - want_alpha).max())
    bgr_gap = int(np.abs(got_bgr.astype(np.int16) - want_bgr).max())
    if alpha_gap > VERIFY_ALPHA or bgr_gap > 1:
        raise StageError(f"{where}: the ONNX export of the {direction} generator answers differently from "
                         f"Keras (α by up to {alpha_gap:.2g}, BGR by up to {bgr_gap} levels); an earlier "
                         "export there is unchanged")


VERIFY_ALPHA = 1e-3
"""The most α may differ between the runtimes before an export is refused (float32 noise is ~1e-5)."""


def _write_savedmodel(generator: Any, serve: Any, metadata: dict[str, str], folder: Path) -> None:
    import tensorflow as tf

    module = tf.Module()
    module.model = generator.model  # tracked, so its weights are saved with the signature
    module.serve = serve
    tf.saved_model.save(module, str(folder), signatures={"serving_default": serve})
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def _replace_folder(new: Path, out: Path) -> None:
    """Put folder `new` at `out`, an existing `out` moved aside first and removed only after the rename."""
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)


def read_export_metadata(path: Path) -> dict[str, str]:
    """The fswap metadata of an export (an .onnx file or a SavedModel folder)."""
    path = Path(path)
    if path.is_dir():
        file = path / METADATA_FILE
        if not file.is_file():
            raise InputError(f"{path}: no {METADATA_FILE}; not a SavedModel written by fswap export")
        return json.loads(file.read_text(encoding="utf-8"))
    try:
        import onnx
    except ImportError as exc:
        raise ConfigError(f"reading {path} needs onnx ({exc}); {INSTALL_HINT}") from exc
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError / OSError variants
        raise InputError(f"{path}: not a readable ONNX file ({exc})") from exc
    return {entry.key: entry.value for entry in proto.metadata_props}


class OnnxGenerator:
    """Swaps aligned faces through an ONNX export with ONNX Runtime: `gen(faces)` → (BGR uint8 (N,R,R,3),
    α float32 (N,R,R)), like `FaceGenerator`, whose metadata (model.json) it carries."""

    def __init__(self, path: Path, *, batch_size: int = 16, threads: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ConfigError(f"[convert] runtime = \"onnx\" needs onnxruntime ({exc}); "
                              f"{INSTALL_HINT}") from exc
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no ONNX export here; run `fswap export MODEL --format onnx`")
        exported = read_export_metadata(self.path)
        if "resolution" not in exported:
            raise InputError(f"{self.path}: an ONNX file without fswap's metadata; export it with "
                             "`fswap export`")
        self.exported = exported
        self.metadata: dict[str, Any] = json.loads(exported.get("model_json", "{}"))
        self.direction = exported["direction"]
        self.resolution = int(exported["resolution"])
        self.condition_channels = int(exported.get("condition_channels", 0))
        self.batch_size = max(1, int(batch_size))
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        self.session = ort.InferenceSession(str(self.path), sess_options=options,
                                            providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self.session.get_inputs()]
        self._outputs = [o.name for o in self.session.get_outputs()]

    def __call__(self, faces: np.ndarray,
                 condition: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        faces, cond = face_batch(faces, self.resolution, self.condition_channels, condition)
        r = self.resolution
        faces = np.ascontiguousarray(faces, dtype=np.uint8)
        bgr_parts, alpha_parts = [], []
        for start in range(0, len(faces), self.batch_size):
            feed = {self._inputs[0]: faces[start : start + self.batch_size]}
            if cond is not None:
                feed[self._inputs[1]] = cond[start : start + self.batch_size]
            got = dict(zip(self._outputs, self.session.run(self._outputs, feed), strict=True))
            bgr_parts.append(got["bgr"])
            alpha_parts.append(got["alpha"])
        if not bgr_parts:
            return np.zeros((0, r, r, 3), np.uint8), np.zeros((0, r, r), np.float32)
        return np.concatenate(bgr_parts), np.ascontiguousarray(np.concatenate(alpha_parts), dtype=np.float32)


def load_onnx_generator(model_dir: Path, direction: str, *, batch_size: int = 16) -> OnnxGenerator:
    """The ONNX generator of `direction` for the saved model in `model_dir`: its export at the default place,
    made (or made again, when the networks changed since) first."""
    path = export_path(model_dir, direction, "onnx")
    current = source_digest(model_dir, direction)
    recorded = None
    if path.is_file():
        try:
            recorded = read_export_metadata(path).get("source_digest", "")
        except InputError:  # a damaged file is made again
            recorded = ""
    if recorded != current:
        why = "no ONNX export yet" if recorded is None else "the networks changed since the last export"
        log.info("%s: %s; exporting %s", model_dir, why, direction)
        export_generator(model_dir, direction, "onnx", path, digest=current)
    return OnnxGenerator(path, batch_size=batch_size)
