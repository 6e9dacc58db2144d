"""The plate head: its ONNX form computes what training computed, training teaches it to read, a run resumes."""

from __future__ import annotations

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from rtcc.alpr.reader.models import PLATE_HEAD_CLASSES
from rtcc.alpr.reader.recognise import Recogniser
from rtcc.alpr.training import head
from rtcc.alpr.training.export import head_graph, write_head
from rtcc.alpr.training.features import BackboneFeatures
from rtcc.alpr.training.samples import Samples, encode
from rtcc.alpr.training.train import train_head


def greedy(probs: np.ndarray) -> str:
    best = probs.argmax(axis=1)
    return "".join(PLATE_HEAD_CLASSES[c - 1] for i, c in enumerate(best) if c and (i == 0 or c != best[i - 1]))


def drawn_plate(text: str, rng: np.random.Generator) -> np.ndarray:
    """A plain dark-on-light plate crop as the reader would cut it."""
    image = np.full((60, 260, 3), int(rng.integers(200, 255)), np.uint8)
    cv2.putText(image, text, (int(rng.integers(8, 20)), 45), cv2.FONT_HERSHEY_DUPLEX, 1.4, (20, 20, 20), 3)
    image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.3, 1.0)))
    return Recogniser.input_tensor(image)


@pytest.fixture(scope="module")
def drawn_samples() -> Samples:
    rng = np.random.default_rng(5)
    texts = ["7ABC123", "4XYZ890", "KLM2045", "8QRS316", "2TUV557", "JHN7731"]
    inputs, labels = [], []
    for text in texts:
        for _ in range(6):
            inputs.append(drawn_plate(text, rng))
            labels.append(text)
    return Samples(BackboneFeatures()(inputs), [encode(text) for text in labels], ["drawn"] * len(labels))


def test_the_exported_head_computes_what_training_computed(tmp_path):
    params = head.init_params(np.random.default_rng(1))
    for name in params:  # the adapters' output convolutions start at zero: give them weights to check
        params[name] = params[name] + np.random.default_rng(2).normal(0, 0.05, params[name].shape).astype(np.float32)
    features = np.random.default_rng(3).normal(0, 1, (head.FEATURES, 23)).astype(np.float32)

    session = ort.InferenceSession(head_graph(params).SerializeToString(), providers=["CPUExecutionProvider"])
    from_onnx = session.run(None, {"features": features.T[None]})[0][0]
    logits = np.asarray(head.apply(params, features[None], np.ones((1, 23), np.float32)))[0]
    from_jax = np.exp(logits - logits.max(axis=1, keepdims=True))
    from_jax /= from_jax.sum(axis=1, keepdims=True)

    assert from_onnx.shape == (23, len(PLATE_HEAD_CLASSES) + 1)
    np.testing.assert_allclose(from_onnx, from_jax, atol=1e-4)
    np.testing.assert_allclose(from_onnx, head.apply_numpy(params, features), atol=1e-4)
    assert write_head(params, tmp_path / "head.onnx").stat().st_size < 5_000_000  # the package ships it


def test_training_teaches_the_head_to_read_plates(drawn_samples, tmp_path):
    untrained = head.init_params(np.random.default_rng(13))
    assert sum(greedy(head.apply_numpy(untrained, f.astype(np.float32))) == "".join(
        PLATE_HEAD_CLASSES[c - 1] for c in label) for f, label in zip(drawn_samples.features, drawn_samples.labels,
                                                                         strict=True)) == 0

    run = train_head(drawn_samples, seed=13, epochs=60, batch=12, learning_rate=3e-3, dropout=0.0, work=tmp_path)

    read = [greedy(head.apply_numpy(run.params, feature.astype(np.float32))) for feature in drawn_samples.features]
    expected = ["".join(PLATE_HEAD_CLASSES[c - 1] for c in label) for label in drawn_samples.labels]
    assert sum(a == b for a, b in zip(read, expected, strict=True)) / len(expected) >= 0.9, list(zip(read, expected))
    assert run.losses[-1] < run.losses[0] / 5
    assert run.images_per_second > 0


def test_an_interrupted_run_resumes_where_it_stopped_and_ends_as_an_unbroken_one(drawn_samples, tmp_path):
    settings = {"seed": 7, "epochs": 4, "batch": 12, "learning_rate": 2e-3, "dropout": 0.1}
    unbroken = train_head(drawn_samples, work=tmp_path / "unbroken", **settings)

    class Interrupted(Exception):
        pass

    def stop_after_two(epoch: int, loss: float) -> None:
        if epoch == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        train_head(drawn_samples, work=tmp_path / "broken", on_epoch=stop_after_two, **settings)
    epochs_run = []
    resumed = train_head(drawn_samples, work=tmp_path / "broken", on_epoch=lambda epoch, loss: epochs_run.append(epoch),
                         **settings)

    assert epochs_run == [3, 4]
    assert len(resumed.losses) == 4
    for name, value in unbroken.params.items():
        np.testing.assert_allclose(resumed.params[name], value, rtol=1e-4, atol=1e-5, err_msg=name)
