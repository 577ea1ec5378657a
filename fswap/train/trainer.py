"""The training loop: schedule phases, the compiled step, checkpoints, NaN recovery, clean stops, reports."""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.errors import TrainingError
from fswap.losses import margin_variable
from fswap.train import report
from fswap.train.schedule import Schedule
from fswap.train.state import CheckpointStore, TrainState
from fswap.train.step import SIDES, TrainStep, split_output

log = logging.getLogger("fswap.train")


@attrs.frozen
class TrainFolders:
    """Where the loop writes: checkpoints, previews, TensorBoard logs and history/plot files."""

    checkpoints: Path
    previews: Path
    logs: Path
    model: Path

    @property
    def history(self) -> Path:
        return self.model / "history.csv"

    @property
    def loss_plot(self) -> Path:
        return self.model / "loss_plot.png"


@attrs.frozen(kw_only=True)
class LoopSettings:
    """The loop's numbers (taken from the train stage config)."""

    iterations: int
    batch_size: int
    checkpoint_every: int = 300
    keep_checkpoints: int = 3
    backup_every: int = 5000
    preview_every: int = 300
    log_every: int = 10
    max_nan_restarts: int = 3
    nan_lr_backoff: float = 0.5
    mixup_alpha: float = 0.2
    reset_optimizers_on_phase: bool = False
    seed: int = 0


class Trainer:
    """Runs `TrainStep` iterations over a batch stream, following the schedule and saving state."""

    def __init__(
        self,
        step: TrainStep,
        schedule: Schedule,
        settings: LoopSettings,
        folders: TrainFolders,
        make_batches: Callable[[int], Any],
        preview_faces: Mapping[str, np.ndarray],
        *,
        progress: bool = True,
        chief: bool = True,
        preview_conditions: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.step = step
        self.chief = chief  # False: a non-chief worker of a distributed run (no checkpoints or previews)
        self.schedule = schedule
        self.settings = settings
        self.folders = folders
        self.make_batches = make_batches
        self.preview_faces = preview_faces
        # per side, the condition maps of the preview faces (a conditioned decoder; see
        # fswap.data.pipeline.preview_conditions): both decoders see the map of the face they are given
        self.preview_conditions = preview_conditions
        self.progress = progress
        nets = step.networks
        variables = [*nets.encoder.weights]
        for s in SIDES:
            variables += [*nets.decoders[s].weights]
        for s in SIDES:
            variables += [*nets.discriminators[s].weights]
        for model in getattr(step, "extra_models", ()):  # networks owned by loss terms (fswap.losses)
            variables += [*model.weights]
        for opt in step.optimizers():
            variables += [*opt.variables]
        self.store = CheckpointStore(folders.checkpoints, variables, keep=settings.keep_checkpoints,
                                     backup_every=settings.backup_every)
        self.state = TrainState(iteration=0, phase=0)
        # each loss term's own hinge margin (its `margin` option), which phases without mask_margin keep
        self.built_margins = {name: float(np.asarray(margin))
                              for name, margin in _margin_variables(step.losses).items()}
        self._stop = threading.Event()
        self._applied_phase: int | None = None

    # -- control -------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the loop to save and return after the current iteration (what SIGINT/SIGTERM do)."""
        self._stop.set()

    def apply_phase(self, index: int, *, entering: bool) -> None:
        """Set loss factors, hinge margin and learning rate of phase `index`; when `entering` a new phase
        also swap decoders / reset optimisers as the phase asks. A phase without `mask_margin` gives each
        hinge term the margin it was built with."""
        phase = self.schedule.phases[index]
        self.step.set_factors(self.schedule.factors(index, self.step.names, self.state.iteration))
        for name, margin in _margin_variables(self.step.losses).items():
            margin.assign(self.built_margins[name] if phase.mask_margin is None else phase.mask_margin)
        self.step.set_lr_factor(phase.lr_factor * self.state.lr_backoff)
        if entering:
            if phase.swap_decoders:
                self.swap_decoders()
                self.state = attrs.evolve(self.state, decoders_swapped=self.state.decoders_swapped + 1)
            if self.settings.reset_optimizers_on_phase or phase.swap_decoders:
                self.step.reset_optimizers()
            log.info("iteration %d: schedule phase %d (%s)", self.state.iteration, index,
                     self.schedule.describe()[index])
        self.state = attrs.evolve(self.state, phase=index)
        self._applied_phase = index

    def swap_decoders(self) -> None:
        """Exchange the weights of decoder A and decoder B (the reference's late-phase swap)."""
        dec = self.step.networks.decoders
        weights_a, weights_b = dec["a"].get_weights(), dec["b"].get_weights()
        dec["a"].set_weights(weights_b)
        dec["b"].set_weights(weights_a)

    # -- the loop ------------------------------------------------------------------------------------

    def run(self, *, resume: bool = True) -> dict[str, Any]:
        """Train up to the configured iterations; returns a summary for the stage result."""
        cfg = self.settings
        started_at = 0
        if resume and self.store.latest() is not None:
            self.state = self.store.restore()
            started_at = self.state.iteration
            expected = self.schedule.index_at(max(self.state.iteration - 1, 0))
            if expected != self.state.phase:
                log.warning("checkpoint phase %d differs from the schedule's %d at iteration %d (was "
                            "train.iterations changed?); following the schedule", self.state.phase, expected,
                            self.state.iteration)
            # the phase of the finished iterations; the loop enters the next one (swap, reset) itself
            self.apply_phase(min(self.state.phase, len(self.schedule.phases) - 1), entering=False)
            log.info("resumed at iteration %d (phase %d)", self.state.iteration, self.state.phase)
        else:
            self.apply_phase(self.schedule.index_at(0), entering=False)
            self._save()
        metric_names = [f"{s}/{n}" for s in SIDES for n in [*self.step.names, "g_total"]]
        if self.step.uses_d:
            metric_names += [f"{s}/d_total" for s in SIDES]
        history = report.History(self.folders.history, metric_names, resume_from=started_at)
        board = report.TensorBoard(self.folders.logs)
        first: dict[str, float] | None = None
        last: dict[str, float] = {}
        rate = 0.0
        restore_handlers = self._install_signal_handlers()
        bar = _progress(cfg.iterations, self.state.iteration, self.progress)
        t0 = time.perf_counter()
        batches = iter(self.make_batches(self.state.iteration))
        try:
            while self.state.iteration < cfg.iterations and not self._stop.is_set():
                it = self.state.iteration
                index = self.schedule.index_at(it)
                if index != self._applied_phase:
                    self.apply_phase(index, entering=True)
                if self.schedule.ramps(index):
                    self.step.set_factors(self.schedule.factors(index, self.step.names, it))
                tick = time.perf_counter()
                batch = next(batches)
                lam = float(np.random.default_rng([cfg.seed, it, 7]).beta(cfg.mixup_alpha, cfg.mixup_alpha))
                values = report.as_floats(self.step(batch, lam, iteration=it + 1))
                if not all(math.isfinite(v) for v in values.values()):
                    batches = iter(self.make_batches(self._recover(it, values)))
                    bar.n = self.state.iteration
                    continue
                self.state = attrs.evolve(self.state, iteration=it + 1)
                elapsed = time.perf_counter() - tick
                speed = 2 * cfg.batch_size / max(elapsed, 1e-9)
                rate = speed if rate == 0.0 else 0.9 * rate + 0.1 * speed
                last = values
                first = first or values
                done = self.state.iteration
                bar.update(1)
                bar.set_postfix(_postfix(values, rate), refresh=False)
                if done % cfg.log_every == 0 or done == cfg.iterations:
                    history.append(done, time.perf_counter() - t0, self.state.phase, rate, values)
                    board.scalars(done, {**values, "images_per_s": rate})
                if self.chief and (done % cfg.preview_every == 0 or done == cfg.iterations):
                    self.write_preview(done, board)
                if done % cfg.checkpoint_every == 0 or done == cfg.iterations:
                    self._save()
            interrupted = self.state.iteration < cfg.iterations
            if interrupted:
                self._save()
                log.info("stopped at iteration %d; checkpoint saved, resume with the same command",
                         self.state.iteration)
        finally:
            bar.close()
            board.close()
            restore_handlers()
        hist = history.read()
        if len(hist["iteration"]):
            report.plot_losses(hist, self.folders.loss_plot)
        return {
            "start_iteration": started_at,
            "iteration": self.state.iteration,
            "phase": self.state.phase,
            "interrupted": interrupted,
            "nan_restarts": self.state.nan_failures,
            "images_per_s": round(rate, 3),
            "first_losses": first or {},
            "final_losses": last,
        }

    def _save(self) -> None:
        """Checkpoint the current state; only the chief writes (every worker holds the same weights)."""
        if self.chief:
            self.store.save(self.state)

    def _recover(self, iteration: int, values: Mapping[str, float]) -> int:
        """Non-finite loss: restore the last checkpoint, lower the learning rate; give up after too many."""
        bad = sorted(k for k, v in values.items() if not math.isfinite(v))
        failures = self.state.nan_failures + 1
        backoff = self.state.lr_backoff * self.settings.nan_lr_backoff
        if failures > self.settings.max_nan_restarts:
            raise TrainingError(
                f"non-finite loss ({', '.join(bad)}) at iteration {iteration + 1} after {failures - 1} "
                f"restarts; giving up. Lower train.lr_generator / train.lr_discriminator or use "
                f"precision = \"float32\"; the last good checkpoint is in {self.store.folder}"
            )
        restored = self.store.restore()
        self.state = attrs.evolve(restored, nan_failures=failures, lr_backoff=backoff)
        self.apply_phase(restored.phase, entering=False)
        log.warning(
            "non-finite loss (%s) at iteration %d: restored checkpoint of iteration %d, learning rate × %g "
            "(failure %d of %d allowed)", ", ".join(bad), iteration + 1, self.state.iteration, backoff,
            failures, self.settings.max_nan_restarts)
        return self.state.iteration

    def write_preview(self, iteration: int, board: report.TensorBoard | None = None) -> Path:
        """Render the preview grid (input / reconstruction / swap / mask for faces of both sides)."""
        nets = self.step.networks
        columns = []
        for side in SIDES:
            other = "b" if side == "a" else "a"
            faces = np.asarray(self.preview_faces[side], np.float32)
            latent = nets.encoder(faces, training=False)
            outs = {}
            if getattr(nets, "condition_channels", 0):
                latent = [latent, self._preview_condition(side, faces, nets.condition_channels)]
            for name, dec_side in (("reconstruction", side), ("swap", other)):
                alpha, bgr, _ = split_output(nets.decoders[dec_side](latent, training=False))
                alpha, bgr = np.asarray(alpha), np.asarray(bgr)
                outs[name] = (alpha * bgr + (1 - alpha) * faces, alpha[..., 0])
            for i in range(len(faces)):
                columns.append({"input": faces[i], "reconstruction": outs["reconstruction"][0][i],
                                "swap": outs["swap"][0][i], "mask": outs["swap"][1][i]})
        grid = report.preview_grid(columns)
        path = self.folders.previews / f"preview_{iteration:08d}.png"
        report.write_png(path, grid)
        report.write_png(self.folders.previews / "latest.png", grid)
        if board is not None:
            board.image(iteration, "preview", grid)
        return path

    def _preview_condition(self, side: str, faces: np.ndarray, channels: int) -> Any:
        """The condition maps given for side `side`'s preview faces, checked against the decoder's input, as
        a tensor (Keras refuses a list mixing the encoder's tensor and an array)."""
        import keras

        maps = None if self.preview_conditions is None else self.preview_conditions.get(side)
        expected = (*faces.shape[:3], channels)
        if maps is None or tuple(np.shape(maps)) != expected:
            got = "none" if maps is None else f"shape {tuple(np.shape(maps))}"
            raise TrainingError(
                f"the decoders take a {channels}-channel condition map (SPADE normalization) but the preview "
                f"maps of side {side} are {got}, expected {expected} (Trainer(preview_conditions=...))")
        return keras.ops.convert_to_tensor(np.asarray(maps, np.float32))

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def handler(signum: int, _frame: Any) -> None:
            log.warning("%s received: saving a checkpoint after this iteration", signal.Signals(signum).name)
            self._stop.set()

        for sig in previous:
            signal.signal(sig, handler)

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore


def _margin_variables(losses: Mapping[str, Any]) -> dict[str, Any]:
    """The per-phase `mask_margin` variables of the loss terms that have one (fswap.losses), by loss name."""
    return {name: margin for name, loss in losses.items() if (margin := margin_variable(loss)) is not None}


def _postfix(values: Mapping[str, float], rate: float) -> dict[str, str]:
    out = {"img/s": f"{rate:.1f}"}
    for key in ("a/g_total", "b/g_total", "a/reconstruction", "b/reconstruction"):
        if key in values:
            out[key.replace("reconstruction", "rec")] = f"{values[key]:.3f}"
    return out


def _progress(total: int, initial: int, enabled: bool) -> Any:
    from fswap.progress import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, desc="train", unit="it",
                dynamic_ncols=True)
