"""The plate head: a small temporal CNN with a CTC output, over the PP-OCR backbone's frozen features.

Input: the backbone's output for one crop, (384, T) with T = crop width / 8. Three 1-D convolutions
(kernel 3; the second and third dilated 2 and 4 and residual, so each output step sees about 15 steps,
~2 glyphs either way) and a 1x1 classifier into the CTC blank plus 0-9A-Z. The same arithmetic is
written twice on purpose: here in JAX for training, and as ONNX nodes in `export.py` for reading; a
test checks that the two agree.

Training pads a batch's feature sequences to one length; `mask` zeroes every layer's output beyond a
sequence's end, which is exactly what the ONNX convolutions' zero padding sees at reading time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = 384  # channels of the backbone output (models.BACKBONE_OUTPUT)
CLASSES = 37  # CTC blank + 0-9A-Z (models.PLATE_HEAD_CLASSES)
LAYERS = ((3, 1), (3, 2), (3, 4))  # (kernel, dilation) per hidden convolution


@dataclass(frozen=True)
class HeadShape:
    features: int = FEATURES
    width: int = 192  # hidden channels
    classes: int = CLASSES


def init_params(rng: np.random.Generator, shape: HeadShape = HeadShape()) -> dict[str, np.ndarray]:
    """He-initialised weights (float32): conv{i}_w (out, in, kernel), conv{i}_b, out_w (classes, width), out_b;
    and the input normalisation (feature mean and scale), set from the training data by the trainer."""
    params: dict[str, np.ndarray] = {
        "in_mean": np.zeros(shape.features, np.float32),
        "in_scale": np.ones(shape.features, np.float32),
    }
    fan_in = shape.features
    for index, (kernel, _) in enumerate(LAYERS):
        params[f"conv{index}_w"] = (rng.standard_normal((shape.width, fan_in, kernel)) *
                                    np.sqrt(2.0 / (fan_in * kernel))).astype(np.float32)
        params[f"conv{index}_b"] = np.zeros(shape.width, np.float32)
        fan_in = shape.width
    params["out_w"] = (rng.standard_normal((shape.classes, shape.width)) * np.sqrt(1.0 / shape.width)).astype(np.float32)
    params["out_b"] = np.zeros(shape.classes, np.float32)
    params["out_b"][0] = 2.0  # start by predicting blank: CTC learns faster from there
    return params


def trainable(params: dict) -> dict:
    """The parameters the optimiser changes (the input normalisation is fixed from the data)."""
    return {name: value for name, value in params.items() if not name.startswith("in_")}


def apply(params: dict, features, mask, *, dropout_key=None, dropout: float = 0.0):
    """Logits (N, T, CLASSES) for features (N, FEATURES, T) and mask (N, T) of 1 within each sequence."""
    import jax
    import jax.numpy as jnp

    m = mask[:, None, :]
    h = (features - params["in_mean"][None, :, None]) * params["in_scale"][None, :, None] * m
    for index, (kernel, dilation) in enumerate(LAYERS):
        pad = dilation * (kernel - 1) // 2
        out = jax.lax.conv_general_dilated(h, params[f"conv{index}_w"], window_strides=(1,), padding=[(pad, pad)],
                                           rhs_dilation=(dilation,), dimension_numbers=("NCH", "OIH", "NCH"))
        out = jax.nn.relu(out + params[f"conv{index}_b"][None, :, None]) * m
        if dropout_key is not None and dropout > 0:
            dropout_key, key = jax.random.split(dropout_key)
            out = out * jax.random.bernoulli(key, 1 - dropout, out.shape) / (1 - dropout)
        h = out if index == 0 else h + out
    logits = jnp.einsum("nct,kc->ntk", h, params["out_w"]) + params["out_b"][None, None, :]
    return logits


def apply_numpy(params: dict, features: np.ndarray) -> np.ndarray:
    """Softmax probabilities (T, CLASSES) for one crop's features (FEATURES, T), in plain numpy (tests, checks)."""
    h = (features - params["in_mean"][:, None]) * params["in_scale"][:, None]
    for index, (kernel, dilation) in enumerate(LAYERS):
        pad = dilation * (kernel - 1) // 2
        padded = np.pad(h, ((0, 0), (pad, pad)))
        weights = params[f"conv{index}_w"]
        steps = h.shape[1]
        out = sum(weights[:, :, k] @ padded[:, k * dilation:k * dilation + steps] for k in range(kernel))
        out = np.maximum(out + params[f"conv{index}_b"][:, None], 0)
        h = out if index == 0 else h + out
    logits = (params["out_w"] @ h + params["out_b"][:, None]).T
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)
