"""Training the plate head with CTC over frozen backbone features, in JAX on CPU, resumable from checkpoints.

One checkpoint per epoch (`checkpoint.npz` in the work folder: weights, Adam state, epoch, throughput); a run
started again with the same recipe and folder goes on from the last completed epoch, so a long run survives
an interruption. Everything random is drawn from the recipe's seed.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rtcc.alpr.training import head
from rtcc.alpr.training.samples import MAX_LABEL, Samples

log = logging.getLogger(__name__)


@dataclass
class TrainingRun:
    params: dict[str, np.ndarray]
    epochs: int
    samples: int
    seconds: float  # training time (this run and the ones it resumed)
    images_per_second: float
    losses: list[float] = field(default_factory=list)


def _padded_batch(samples: Samples, indices: np.ndarray, step: int = 8):
    steps = max(samples.features[index].shape[1] for index in indices)
    steps = -(-steps // step) * step  # a few padded lengths: a few compilations
    features = np.zeros((len(indices), head.FEATURES, steps), np.float32)
    mask = np.zeros((len(indices), steps), np.float32)
    labels = np.zeros((len(indices), MAX_LABEL), np.int32)
    label_padding = np.ones((len(indices), MAX_LABEL), np.float32)
    for row, index in enumerate(indices):
        feature, label = samples.features[index], samples.labels[index]
        features[row, :, :feature.shape[1]] = feature
        mask[row, :feature.shape[1]] = 1
        labels[row, :len(label)] = label
        label_padding[row, :len(label)] = 0
    return features, mask, labels, label_padding


def train_head(samples: Samples, *, seed: int, epochs: int, batch: int, learning_rate: float, dropout: float,
               work: Path, width: int = 128, start: dict[str, np.ndarray] | None = None,
               on_epoch: Callable[[int, float], None] | None = None) -> TrainingRun:
    """Train (or go on training) the head on `samples`; checkpoints in `work`. `on_epoch(epoch, loss)` is called
    after each epoch's checkpoint is written. `start`: the weights to start from (default: random)."""
    import jax
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(seed)
    params = start if start is not None else head.init_params(rng, head.HeadShape(width=width))
    steps_per_epoch = max(1, len(samples) // batch)
    warmup = min(500, steps_per_epoch)
    schedule = optax.warmup_cosine_decay_schedule(0.0, learning_rate, warmup, max(warmup + 1, steps_per_epoch * epochs),
                                                  learning_rate * 0.02)
    optimiser = optax.adamw(schedule, weight_decay=1e-4)
    weights = {name: jnp.asarray(value) for name, value in params.items()}
    state = optimiser.init(weights)
    done_epochs, seconds, losses = 0, 0.0, []
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = work / "checkpoint.npz"
    # A checkpoint is resumed only by the run that wrote it: same samples, same settings, same start.
    settings = {"samples": len(samples), "seed": seed, "epochs": epochs, "batch": batch, "learning_rate": learning_rate,
                "dropout": dropout, "start": float(sum(np.abs(value).sum() for value in params.values()))}
    if checkpoint.exists():
        saved = pickle.loads(checkpoint.read_bytes())
        if saved["settings"] == settings:
            weights = {name: jnp.asarray(value) for name, value in saved["weights"].items()}
            state = jax.tree_util.tree_map(jnp.asarray, saved["state"])
            done_epochs, seconds, losses = saved["epoch"], saved["seconds"], saved["losses"]
            log.info("resuming after epoch %d", done_epochs)

    def loss_of(weights, features, mask, labels, label_padding, key):
        logits = head.apply(weights, features, mask, dropout_key=key, dropout=dropout)
        per_sequence = optax.ctc_loss(logits, 1.0 - mask, labels, label_padding, blank_id=0)
        return jnp.mean(per_sequence / jnp.maximum(1.0, jnp.sum(1.0 - label_padding, axis=1)))

    @jax.jit
    def step(weights, state, features, mask, labels, label_padding, key):
        loss, grads = jax.value_and_grad(loss_of)(weights, features, mask, labels, label_padding, key)
        updates, state = optimiser.update(grads, state, weights)
        return optax.apply_updates(weights, updates), state, loss

    # Every draw comes from (seed, epoch, step): a resumed run makes the same draws as an unbroken one.
    base_key = jax.random.PRNGKey(seed)
    for epoch in range(done_epochs, epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(samples))
        started, epoch_losses = time.monotonic(), []
        for number, start in enumerate(range(0, steps_per_epoch * batch, batch)):
            step_key = jax.random.fold_in(jax.random.fold_in(base_key, epoch), number)
            weights, state, loss = step(weights, state, *_padded_batch(samples, order[start:start + batch]),
                                        step_key)
            epoch_losses.append(float(loss))
        seconds += time.monotonic() - started
        losses.append(float(np.mean(epoch_losses)))
        log.info("epoch %d/%d: loss %.4f, %.0f crops/s", epoch + 1, epochs, losses[-1],
                 steps_per_epoch * batch / (time.monotonic() - started))
        checkpoint.write_bytes(pickle.dumps({
            "weights": {name: np.asarray(value) for name, value in weights.items()},
            "state": jax.tree_util.tree_map(np.asarray, state), "epoch": epoch + 1, "seconds": seconds,
            "losses": losses, "settings": settings}))
        if on_epoch is not None:
            on_epoch(epoch + 1, losses[-1])
    trained = {name: np.asarray(value) for name, value in weights.items()}
    images = steps_per_epoch * batch * epochs
    return TrainingRun(trained, epochs, len(samples), seconds, images / seconds if seconds else 0.0, losses)
