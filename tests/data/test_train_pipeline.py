"""The training input pipeline: face sets → reproducible augmented batches through tf.data."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest

from fswap.data.pipeline import BatchMaker, EncodedImages, load_faces, make_dataset, preview_faces
from fswap.data.stores import choose_store, decoded_bytes
from fswap.errors import InputError
from fswap.stages.train_config import AugmentConfig
from fswap.train.toys import make_toy_faceset


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("sets")
    make_toy_faceset(root / "a", "astronaut", count=4)
    make_toy_faceset(root / "b", "grace_hopper", count=3, eyes=False)
    return {"a": load_faces(root / "a", "eyes5"), "b": load_faces(root / "b", "eyes5")}


def test_load_faces_resizes_and_reads_eye_masks(faces: dict) -> None:
    assert faces["a"].images.shape == (4, 256, 256, 3) and faces["a"].images.dtype == np.uint8
    assert faces["a"].eyes is not None and faces["a"].eyes.max() == 255
    assert faces["b"].eyes is None


def test_batches_have_the_contract_shapes_and_ranges(faces: dict) -> None:
    maker = BatchMaker(faces=faces, resolution=64, batch_size=4, augment=AugmentConfig(), seed=0)
    batch = maker.make(0)
    assert [b.shape for b in batch] == [(4, 64, 64, 3), (4, 64, 64, 3), (4, 64, 64, 1)] * 2
    for img in (batch[0], batch[1], batch[3], batch[4]):
        assert img.dtype == np.float32 and img.min() >= -1.0 and img.max() <= 1.0
    assert batch[2].max() > 0.5  # side a has eye masks
    assert batch[5].max() == 0.0  # side b has none: zeros
    assert maker.has_eyes


def test_batches_are_a_pure_function_of_seed_and_index(faces: dict) -> None:
    maker = BatchMaker(faces=faces, resolution=64, batch_size=2, augment=AugmentConfig(), seed=5)
    again = BatchMaker(faces=faces, resolution=64, batch_size=2, augment=AugmentConfig(), seed=5)
    other_seed = BatchMaker(faces=faces, resolution=64, batch_size=2, augment=AugmentConfig(), seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(maker.make(7), again.make(7), strict=True))
    assert not np.array_equal(maker.make(7)[0], maker.make(8)[0])
    assert not np.array_equal(maker.make(7)[0], other_seed.make(7)[0])


def test_dataset_streams_batches_in_order_from_any_start(faces: dict) -> None:
    maker = BatchMaker(faces=faces, resolution=64, batch_size=2, augment=AugmentConfig(), seed=1)
    stream = iter(make_dataset(maker, start=3))
    for k in (3, 4, 5):
        got = [np.asarray(t) for t in next(stream)]
        assert all(np.array_equal(g, e) for g, e in zip(got, maker.make(k), strict=True))


def test_preview_faces(faces: dict) -> None:
    out = preview_faces(faces["a"], 64, count=3)
    assert out.shape == (3, 64, 64, 3) and out.dtype == np.float32 and out.min() >= -1 and out.max() <= 1


def test_empty_or_missing_face_set_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a face set"):
        load_faces(tmp_path / "nothing")
    from fswap.data.faceset import FaceSet

    FaceSet(path=tmp_path / "empty", size=64).save()
    with pytest.raises(InputError, match="empty"):
        load_faces(tmp_path / "empty")


def test_png_store_gives_the_same_batches_in_less_memory(tmp_path: Path, faces: dict) -> None:
    a = faces["a"].path
    stored = {"a": load_faces(a, "eyes5", store="png"), "b": load_faces(faces["b"].path, "eyes5", "png")}
    assert isinstance(stored["a"].images, EncodedImages) and isinstance(stored["a"].eyes, EncodedImages)
    assert all(np.array_equal(x, y) for x, y in zip(stored["a"].images, faces["a"].images, strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(stored["a"].eyes, faces["a"].eyes, strict=True))
    assert stored["a"].nbytes < faces["a"].nbytes / 2  # the toy faces are smooth: PNG packs them tightly
    config = AugmentConfig(color_match=1.0)  # reads faces of both sides per sample
    plain = BatchMaker(faces={"a": faces["a"], "b": faces["b"]}, resolution=64, batch_size=4, augment=config)
    packed = BatchMaker(faces=stored, resolution=64, batch_size=4, augment=config)
    for k in (0, 3):
        assert all(np.array_equal(x, y) for x, y in zip(plain.make(k), packed.make(k), strict=True))
    assert np.array_equal(preview_faces(stored["a"], 64, 3), preview_faces(faces["a"], 64, 3))


def test_auto_store_decodes_sets_that_fit_and_packs_larger_ones(faces: dict) -> None:
    sets = [f.faceset for f in faces.values()]
    assert decoded_bytes(sets, "eyes5") == (4 * 4 + 3 * 3) * 256 * 256  # b has no eye masks
    assert choose_store("auto", sets, "eyes5") == "decoded"
    big = [attrs.evolve(sets[0], records=sets[0].records * 2100)]  # 8 400 faces with masks: 2.2 GB decoded
    assert choose_store("auto", big, "eyes5") == "png" and choose_store("decoded", big) == "decoded"
    with pytest.raises(InputError, match="face store must be one of auto, decoded, png"):
        load_faces(faces["a"].path, store="jpeg")
