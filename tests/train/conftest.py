"""Fixtures for train tests: toy face sets, tiny networks with the model contract, a trainer factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fswap.data.pipeline import BatchMaker, load_faces, make_dataset, preview_faces
from fswap.stages.train_config import AugmentConfig
from fswap.train.toys import make_toy_faceset

RES = 32


@pytest.fixture(scope="session")
def toy_faces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("toyfaces")
    make_toy_faceset(root / "a", "astronaut", count=6, seed=1)
    make_toy_faceset(root / "b", "grace_hopper", count=6, seed=2)
    return {"a": load_faces(root / "a", "eyes5"), "b": load_faces(root / "b", "eyes5"), "root": root}


def standard_losses(names: tuple[str, ...] = ("reconstruction", "edge", "eyes", "mixup_lsgan", "mask_l1",
                                              "mask_hinge", "mask_tv")) -> dict[str, Any]:
    from fswap_standard import loss_config

    from fswap import declared

    specs = {s.name: s for s in declared(loss_config)}
    return {n: specs[n].load_factory()(specs[n].config()) for n in names}


@pytest.fixture
def make_trainer(toy_faces: dict[str, Any], tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build a Trainer over tiny networks; keyword overrides go to LoopSettings / TrainStep."""
    from fswap import api
    from fswap.train.schedule import Schedule
    from fswap.train.step import TrainStep
    from fswap.train.toys import TinyNetworks
    from fswap.train.trainer import LoopSettings, Trainer, TrainFolders

    def build(*, iterations: int = 40, workdir: Path | None = None, wrap: Any = None, lr: float = 1e-3,
              seed: int = 0, **settings: Any) -> Any:
        root = workdir or tmp_path / "model"
        faces = {"a": toy_faces["a"], "b": toy_faces["b"]}
        maker = BatchMaker(faces=faces, resolution=RES, batch_size=4, augment=AugmentConfig(), seed=seed)
        nets = TinyNetworks(RES, seed=seed)
        step = TrainStep(nets, standard_losses(), lr_generator=lr, lr_discriminator=lr)
        folders = TrainFolders(root / "checkpoints", root / "previews", root / "logs", root)
        numbers = {"checkpoint_every": 10, "preview_every": 20, "log_every": 5, **settings}
        loop = LoopSettings(iterations=iterations, batch_size=4, **numbers)

        def batches(start: int) -> Any:
            stream = make_dataset(maker, start)
            return wrap(start, stream) if wrap else stream

        reference = api.from_dict({"workdir": str(root), "train": {"recipe": "reference"}})
        schedule = Schedule(reference.stage_config("train").schedule, iterations, 2)
        previews = {s: preview_faces(faces[s], RES, count=2) for s in ("a", "b")}
        return Trainer(step, schedule, loop, folders, batches, previews, progress=False)

    yield build
