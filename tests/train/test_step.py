"""The compiled train step: updates, runtime weights and learning rates, float16 loss scaling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fswap.train.step import TrainStep
from fswap.train.toys import TinyNetworks

pytestmark = pytest.mark.slow


def _batch(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    one = [rng.uniform(-1, 1, (4, 32, 32, 3)).astype("f4"), rng.uniform(-1, 1, (4, 32, 32, 3)).astype("f4"),
           rng.uniform(0, 1, (4, 32, 32, 1)).astype("f4")]
    return one * 2


def _losses() -> dict[str, Any]:
    from fswap_standard import loss_config as lc
    from fswap_standard import losses as L

    return {"reconstruction": L.ReconstructionLoss(lc.ReconstructionConfig()),
            "mixup_lsgan": L.MixupLsganLoss(lc.MixupLsganConfig())}


def test_every_optimizer_steps_and_factors_switch_terms_off() -> None:
    step = TrainStep(TinyNetworks(seed=0), _losses())
    first = {k: float(v) for k, v in step(_batch(), 0.3).items()}
    assert [int(o.iterations.numpy()) for o in step.optimizers()] == [1, 1, 1, 1]
    expected = first["a/reconstruction"] + 0.1 * first["a/mixup_lsgan"]
    assert first["a/g_total"] == pytest.approx(expected, abs=3e-3)  # + the L2 weight decay
    step.set_factors({"mixup_lsgan": 0.0})
    again = {k: float(v) for k, v in step(_batch(), 0.3).items()}
    assert again["a/g_total"] == pytest.approx(again["a/reconstruction"], abs=3e-3)
    step.set_lr_factor(0.25)
    assert float(step.g_opt["a"].learning_rate) == pytest.approx(2.5e-5)
    assert float(step.d_opt["b"].learning_rate) == pytest.approx(5e-5)
    step.reset_optimizers()
    assert all(int(o.iterations.numpy()) == 0 for o in step.optimizers())


def test_loss_scaling_matches_unscaled_updates_and_skips_overflow() -> None:
    plain = TrainStep(TinyNetworks(seed=0), _losses())
    scaled = TrainStep(TinyNetworks(seed=0), _losses(), loss_scaling=True)
    for _ in range(2):
        a = plain(_batch(), 0.3)
        b = scaled(_batch(), 0.3)
    assert float(a["a/reconstruction"]) == pytest.approx(float(b["a/reconstruction"]), rel=1e-4)
    before = [w.copy() for w in scaled.networks.encoder.get_weights()]
    broken = [np.full_like(x, np.inf) for x in _batch()]  # non-finite gradients, as on a float16 overflow
    scaled(broken, 0.3)
    after = scaled.networks.encoder.get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))
    assert float(scaled.loss_scale.numpy()) == 2.0**15 / 2**4  # each of the four updates halves it
