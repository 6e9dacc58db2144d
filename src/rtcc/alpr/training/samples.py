"""Training samples: (backbone features, plate text) pairs from the dev photos and from synthetic scenes.

Every photo or scene is an item with its own seed (spawned from the recipe's seed), so the samples are the same
whatever the number of worker processes. Built samples are cached in the work folder under a key of
everything that shapes them; a second run (or a resumed one) reuses them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from rtcc.alpr.reader.models import PLATE_HEAD_CLASSES
from rtcc.alpr.training.crops import Box, degrade_photo, reader_inputs
from rtcc.alpr.training.features import BackboneFeatures

log = logging.getLogger(__name__)
MAX_LABEL = 10


@dataclass(frozen=True)
class DevPhoto:
    name: str
    path: Path
    box: Box
    plate: str


def dev_photos(folder: Path) -> list[DevPhoto]:
    """The labelled photos of a folder with groundtruth.tsv (image x y w h PLATE)."""
    photos = []
    for line in (folder / "groundtruth.tsv").read_text().splitlines():
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 6:
            plate = "".join(ch for ch in parts[5].upper() if ch.isalnum())
            photos.append(DevPhoto(parts[0], folder / parts[0], tuple(int(v) for v in parts[1:5]), plate))
    return photos


def fold_of(name: str, folds: int = 2) -> int:
    """A photo's fold for cross-validation: from its name, so it never depends on order or machine."""
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % folds


def encode(text: str) -> list[int]:
    """Class indices of a plate string (0 is the CTC blank)."""
    return [1 + PLATE_HEAD_CLASSES.index(ch) for ch in text]


@dataclass
class Samples:
    features: list[np.ndarray]  # (384, T) float16
    labels: list[list[int]]
    sources: list[str]  # "dev:<name>" or "synthetic:<region>"

    def __len__(self) -> int:
        return len(self.labels)

    def without_photos(self, names: set[str]) -> Samples:
        """These samples less the crops of these dev photos (a held-out fold)."""
        keep = [index for index, source in enumerate(self.sources) if source.removeprefix("dev:") not in names]
        return Samples([self.features[index] for index in keep], [self.labels[index] for index in keep],
                       [self.sources[index] for index in keep])

    def save(self, path: Path) -> None:
        lengths = np.array([feature.shape[1] for feature in self.features])
        np.savez(path.with_suffix(".partial.npz"), features=np.concatenate(self.features, axis=1), lengths=lengths,
                 labels=np.array([label + [-1] * (MAX_LABEL - len(label)) for label in self.labels]),
                 sources=np.array(self.sources))
        path.with_suffix(".partial.npz").replace(path)

    @classmethod
    def load(cls, path: Path) -> Samples:
        data = np.load(path)
        bounds = np.concatenate([[0], np.cumsum(data["lengths"])])
        stacked = data["features"]  # read once: every data["features"] reads the whole array from the file again
        features = [stacked[:, start:end] for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
        labels = [[int(value) for value in row if value >= 0] for row in data["labels"]]
        return cls(features, labels, [str(source) for source in data["sources"]])


def _dev_inputs(job: tuple[DevPhoto, int, int]) -> list[tuple[np.ndarray, str]]:
    photo, variants, seed = job
    img = cv2.imread(str(photo.path), cv2.IMREAD_COLOR)
    if img is None:
        return []
    rng = np.random.default_rng(seed)
    inputs = [(tensor, photo.plate) for tensor in reader_inputs(img, photo.box)]
    for _ in range(variants):
        degraded, box = degrade_photo(rng, img, photo.box)
        inputs += [(tensor, photo.plate) for tensor in reader_inputs(degraded, box, rng)]
    return inputs


def _synthetic_inputs(job: tuple[str, int, int]) -> list[tuple[np.ndarray, str]]:
    from rtcc.alpr.training.synthetic import render_scene

    region, count, seed = job
    rng = np.random.default_rng(seed)
    inputs = []
    for _ in range(count):
        scene = render_scene(rng, region, stacked=0)  # stacked small letters: the row finder leaves them out of its crop
        inputs += [(tensor, scene.text) for tensor in reader_inputs(scene.image, scene.box, rng)]
    return inputs


def build_samples(*, photos: list[DevPhoto], variants: int, synthetic: dict[str, int], seed: int, work: Path,
                  workers: int = 2) -> Samples:
    """Crops of the dev photos (each as it is and `variants` degraded copies) and of synthetic scenes
    ({region: count}), through the backbone; cached in `work`."""
    key = hashlib.sha256(json.dumps({
        "photos": [photo.name for photo in photos], "variants": variants, "synthetic": synthetic, "seed": seed,
        "version": 2}, sort_keys=True).encode()).hexdigest()[:16]
    cached = work / f"samples-{key}.npz"
    if cached.exists():
        log.info("reusing samples %s", cached)
        return Samples.load(cached)
    seeds = np.random.SeedSequence(seed)
    dev_seed, synthetic_seed = seeds.spawn(2)
    dev_jobs = [(photo, variants, int(child.generate_state(1)[0]))
                for photo, child in zip(photos, dev_seed.spawn(len(photos)), strict=True)]
    chunk = 50  # synthetic scenes per job
    synthetic_jobs = []
    for region, count in sorted(synthetic.items()):
        for start, child in zip(range(0, count, chunk), synthetic_seed.spawn((count + chunk - 1) // chunk), strict=False):
            synthetic_jobs.append((region, min(chunk, count - start), int(child.generate_state(1)[0])))
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        dev = list(pool.map(_dev_inputs, dev_jobs))
        synthetic_inputs = list(pool.map(_synthetic_inputs, synthetic_jobs))
    inputs, labels, sources = [], [], []
    for photo, photo_inputs in zip(photos, dev, strict=True):
        for tensor, text in photo_inputs:
            inputs.append(tensor), labels.append(text), sources.append(f"dev:{photo.name}")
    for (region, _, _), job_inputs in zip(synthetic_jobs, synthetic_inputs, strict=True):
        for tensor, text in job_inputs:
            inputs.append(tensor), labels.append(text), sources.append(f"synthetic:{region}")
    keep = [index for index, text in enumerate(labels)
            if 0 < len(text) <= MAX_LABEL and inputs[index].shape[2] // 8 >= 2 * len(text) + 1]
    features = BackboneFeatures(threads=workers)([inputs[index] for index in keep])
    samples = Samples(features, [encode(labels[index]) for index in keep], [sources[index] for index in keep])
    work.mkdir(parents=True, exist_ok=True)
    samples.save(cached)
    return samples
