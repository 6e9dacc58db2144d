"""The plate head: PP-OCR's classifier cut down to the plate alphabet, with residual adapters, trained with CTC.

Input: PP-OCR's sequence features for one crop, (120, T) with T = crop width / 8 (the output of its SVTR
neck, models.BACKBONE_OUTPUT). The head starts as exactly what the reader did before: PP-OCR's own
classifier rows for the CTC blank and 0-9A-Z (`pretrained_params`), behind residual adapters whose last
convolution starts at zero. Training on plates then moves it where plates differ from documents (a flagged
1 is not an I, plate glyphs are condensed, a state name is not the plate) from a start that already reads.

Each adapter is a 1-D convolution into `width` channels (kernel 3; the second adapter dilated 2, so the head
sees about 5 steps, two-thirds of a glyph, either way), a ReLU and a convolution back, added to its input.

The same arithmetic is written twice on purpose: here in JAX for training, and as ONNX nodes in `export.py`
for reading; a test checks that the two agree. Training pads a batch's sequences to one length; `mask`
zeroes every layer's output beyond a sequence's end, which is what the ONNX convolutions' zero padding sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = 120  # channels of PP-OCR's neck output (models.BACKBONE_OUTPUT)
CLASSES = 37  # CTC blank + 0-9A-Z (models.PLATE_HEAD_CLASSES)
ADAPTERS = ((3, 1), (3, 2))  # (kernel, dilation) of each residual adapter
CLASSIFIER_WEIGHTS, CLASSIFIER_BIAS = "linear_8.w_0", "linear_8.b_0"  # PP-OCR's classifier in its ONNX file


@dataclass(frozen=True)
class HeadShape:
    features: int = FEATURES
    width: int = 128  # an adapter's hidden channels
    classes: int = CLASSES


def init_params(rng: np.random.Generator, shape: HeadShape = HeadShape()) -> dict[str, np.ndarray]:
    """Random weights (float32): per adapter i, a{i}_w1 (width, features, kernel), a{i}_b1, a{i}_w2 (features,
    width, kernel) at zero, a{i}_b2; out_w (classes, features), out_b."""
    params: dict[str, np.ndarray] = {}
    for index, (kernel, _) in enumerate(ADAPTERS):
        params[f"a{index}_w1"] = (rng.standard_normal((shape.width, shape.features, kernel)) *
                                  np.sqrt(2.0 / (shape.features * kernel))).astype(np.float32)
        params[f"a{index}_b1"] = np.zeros(shape.width, np.float32)
        params[f"a{index}_w2"] = np.zeros((shape.features, shape.width, kernel), np.float32)
        params[f"a{index}_b2"] = np.zeros(shape.features, np.float32)
    params["out_w"] = (rng.standard_normal((shape.classes, shape.features)) * np.sqrt(1.0 / shape.features)).astype(np.float32)
    params["out_b"] = np.zeros(shape.classes, np.float32)
    params["out_b"][0] = 2.0  # start by predicting blank: CTC learns faster from there
    return params


def pretrained_params(rng: np.random.Generator, recogniser: Path, shape: HeadShape = HeadShape()) -> dict[str, np.ndarray]:
    """init_params with the classifier taken from PP-OCR's: its rows for the blank and the upper-case 0-9A-Z."""
    import onnx
    from onnx import numpy_helper

    from rtcc.alpr.reader.models import PLATE_HEAD_CLASSES

    model = onnx.load(str(recogniser))
    tensors = {tensor.name: tensor for tensor in model.graph.initializer}
    weights = numpy_helper.to_array(tensors[CLASSIFIER_WEIGHTS])  # (features, symbols)
    bias = numpy_helper.to_array(tensors[CLASSIFIER_BIAS])
    charset = ["<blank>", *next(p.value for p in model.metadata_props if p.key == "character").split("\n")]
    columns = [0] + [charset.index(symbol) for symbol in PLATE_HEAD_CLASSES]
    params = init_params(rng, shape)
    params["out_w"] = np.ascontiguousarray(weights[:, columns].T).astype(np.float32)
    params["out_b"] = bias[columns].astype(np.float32)
    return params


def apply(params: dict, features, mask, *, dropout_key=None, dropout: float = 0.0):
    """Logits (N, T, CLASSES) for features (N, FEATURES, T) and mask (N, T) of 1 within each sequence."""
    import jax
    import jax.numpy as jnp

    m = mask[:, None, :]
    h = features * m
    if dropout_key is not None and dropout > 0:
        h = h * jax.random.bernoulli(dropout_key, 1 - dropout, h.shape) / (1 - dropout)
    for index, (kernel, dilation) in enumerate(ADAPTERS):
        pad = dilation * (kernel - 1) // 2

        def conv(x, weights, bias):
            out = jax.lax.conv_general_dilated(x, weights, window_strides=(1,), padding=[(pad, pad)],
                                               rhs_dilation=(dilation,), dimension_numbers=("NCH", "OIH", "NCH"))
            return out + bias[None, :, None]

        inner = jax.nn.relu(conv(h, params[f"a{index}_w1"], params[f"a{index}_b1"])) * m
        h = h + conv(inner, params[f"a{index}_w2"], params[f"a{index}_b2"]) * m
    return jnp.einsum("nct,kc->ntk", h, params["out_w"]) + params["out_b"][None, None, :]


def apply_numpy(params: dict, features: np.ndarray) -> np.ndarray:
    """Softmax probabilities (T, CLASSES) for one crop's features (FEATURES, T), in plain numpy (tests, checks)."""
    h = features.astype(np.float32)
    steps = h.shape[1]
    for index, (kernel, dilation) in enumerate(ADAPTERS):
        pad = dilation * (kernel - 1) // 2

        def conv(x, weights, bias):
            padded = np.pad(x, ((0, 0), (pad, pad)))
            return sum(weights[:, :, k] @ padded[:, k * dilation:k * dilation + steps] for k in range(kernel)) + bias[:, None]

        inner = np.maximum(conv(h, params[f"a{index}_w1"], params[f"a{index}_b1"]), 0)
        h = h + conv(inner, params[f"a{index}_w2"], params[f"a{index}_b2"])
    logits = (params["out_w"] @ h + params["out_b"][:, None]).T
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)
