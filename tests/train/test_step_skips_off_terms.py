"""A phase that switches the adversarial term off does not run the discriminators at all (no update, no
forward pass, its metrics read 0), and switching it back on trains them again; cheap terms keep running."""

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
            "mixup_lsgan": L.MixupLsganLoss(lc.MixupLsganConfig()),
            "mask_l1": L.MaskL1Loss(lc.MaskL1Config())}


class CountingDiscriminator:
    """Wraps a discriminator and counts how often the compiled step's graph calls it (at trace time)."""

    def __init__(self, model: Any) -> None:
        self.model, self.calls = model, 0
        self.trainable_variables = model.trainable_variables
        self.losses = model.losses
        self.weights = model.weights

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.model(*args, **kwargs)


def test_adversarial_term_off_skips_the_discriminators_and_back_on_trains_them() -> None:
    nets = TinyNetworks(seed=0)
    counting = {s: CountingDiscriminator(m) for s, m in nets.discriminators.items()}
    nets.discriminators = counting
    step = TrainStep(nets, _losses())
    assert step.skippable == {"mixup_lsgan"}
    step.set_factors({"mixup_lsgan": 0.0, "mask_l1": 0.0})
    d_before = [w.copy() for w in counting["a"].model.get_weights()]
    g_before = [w.copy() for w in nets.decoders["a"].get_weights()]
    off = {k: float(v) for k, v in step(_batch(), 0.3).items()}
    assert counting["a"].calls == counting["b"].calls == 0  # not even traced into the graph
    assert off["a/mixup_lsgan"] == 0.0 and off["a/d_total"] == 0.0
    assert off["a/mask_l1"] > 0.0  # a cheap term switched off still reports its value
    assert off["a/g_total"] == pytest.approx(off["a/reconstruction"], abs=3e-3)
    assert all(np.array_equal(a, b) for a, b in zip(d_before, counting["a"].model.get_weights(), strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(g_before, nets.decoders["a"].get_weights(),
                                                          strict=True))
    assert [int(o.iterations.numpy()) for o in step.optimizers()] == [1, 1, 0, 0]
    step.set_factors({"mixup_lsgan": 1.0})
    on = {k: float(v) for k, v in step(_batch(1), 0.3).items()}
    assert counting["a"].calls > 0 and on["a/mixup_lsgan"] > 0.0 and on["a/d_total"] > 0.0
    assert not all(np.array_equal(a, b) for a, b in zip(d_before, counting["a"].model.get_weights(),
                                                          strict=True))
    assert [int(o.iterations.numpy()) for o in step.optimizers()] == [2, 2, 1, 1]
    # each set of skipped terms is compiled once: switching back and forth does not retrace
    step.set_factors({"mixup_lsgan": 0.0})
    step(_batch(2), 0.3)
    assert len(step._steps) == 2
