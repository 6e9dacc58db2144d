"""PP-OCR's sequence features of training crops, computed once with onnxruntime (backbone and neck are frozen).

Training only the head over frozen features is what makes the recipe fit a 2-core CPU: the backbone, 5 M of the
recogniser's parameters, runs once per crop instead of once per crop per epoch. Crops of one width are run as
a batch; features are kept as float16 (a crop 320 px wide is 120 x 40 values, 10 KB).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from rtcc.alpr.reader.models import backbone_model, find_model_files, make_session

BATCH = 32


class BackboneFeatures:
    """Runs the recogniser's backbone (the model the reader joins the plate head onto)."""

    def __init__(self, threads: int = 1):
        self.session = make_session(backbone_model(find_model_files().rec).SerializeToString(), threads)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Features (120, W/8) float16 for each recogniser input (3, 48, W), in the order given."""
        by_width: dict[int, list[int]] = defaultdict(list)
        for position, tensor in enumerate(inputs):
            by_width[tensor.shape[2]].append(position)
        out: list[np.ndarray | None] = [None] * len(inputs)
        for positions in by_width.values():
            for start in range(0, len(positions), BATCH):
                chunk = positions[start:start + BATCH]
                batch = np.stack([inputs[position] for position in chunk])
                features = self.session.run(None, {self.input_name: batch})[0].transpose(0, 2, 1)
                for position, feature in zip(chunk, features, strict=True):
                    out[position] = feature.astype(np.float16)
        return out  # type: ignore[return-value]
