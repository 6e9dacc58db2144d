"""The recipe of the shipped plate head, and a run of it end to end: samples, training, export, evaluation.

`rtcc alpr train` runs this. The defaults are the recipe of the model in the package (docs/alpr-training.md);
with `holdout_fold` the dev photos of that fold are kept out of training and the figure reported is theirs,
the honest estimate of how the recipe does on photos it has never seen.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rtcc.alpr.reader.models import PLATE_HEAD, find_model_files
from rtcc.alpr.training.export import write_head
from rtcc.alpr.training.head import HeadShape, pretrained_params
from rtcc.alpr.training.samples import DevPhoto, build_samples, dev_photos, fold_of
from rtcc.alpr.training.train import train_head

DEV_SET = Path(__file__).resolve().parents[4] / ".." / "shared" / "data" / "alpr" / "openalpr-us-dev"


@dataclass
class Recipe:
    seed: int = 13
    variants: int = 15  # degraded copies of each dev photo, besides the photo itself
    # Synthetic scenes per region ({"us": 3000}); none by default: on the held-out fold they cost 2-3 photos
    # against dev crops alone (docs/alpr-training.md, "How the recipe was chosen").
    synthetic: dict[str, int] = field(default_factory=dict)
    # Gentle: the head starts as PP-OCR's classifier, which already reads; more epochs or a higher rate overfit the
    # 112 dev plates and lose photos of the held-out fold (docs/alpr-training.md, "How the recipe was chosen").
    epochs: int = 4
    batch: int = 64
    learning_rate: float = 3e-4
    dropout: float = 0.2
    width: int = 128  # the adapters' hidden channels
    holdout_fold: int | None = None  # of 2; None: train on every dev photo (the shipped model)


@contextlib.contextmanager
def reading_with(head: Path) -> Iterator[None]:
    """The reader built inside reads with this head (RTCC_ALPR_PLATE_HEAD, restored after)."""
    before = os.environ.get("RTCC_ALPR_PLATE_HEAD")
    os.environ["RTCC_ALPR_PLATE_HEAD"] = str(head)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("RTCC_ALPR_PLATE_HEAD", None)
        else:
            os.environ["RTCC_ALPR_PLATE_HEAD"] = before


def exact_reads(photos: list[DevPhoto], head: Path | None) -> tuple[int, list[dict]]:
    """How many photos the whole reader reads exactly (with `head`, or PP-OCR's classifier for None)."""
    from rtcc.alpr.reader import PlateReader

    with reading_with(head) if head else reading_with(Path("none")):
        reader = PlateReader()
    correct, misses = 0, []
    for photo in photos:
        reads = reader.read_image(photo.path)
        got = reads[0].plate if reads else ""
        if got == photo.plate:
            correct += 1
        else:
            misses.append({"image": photo.name, "expected": photo.plate, "read": got})
    return correct, misses


def run_recipe(recipe: Recipe, *, dev: Path = DEV_SET, work: Path, output: Path = PLATE_HEAD, workers: int = 2,
               evaluate: bool = True) -> dict:
    """Build the samples, train, write the head to `output`, and measure it; a JSON-ready summary."""
    work.mkdir(parents=True, exist_ok=True)
    photos = dev_photos(dev)
    held_out = [photo for photo in photos if recipe.holdout_fold is not None and fold_of(photo.name) == recipe.holdout_fold]
    training_photos = [photo for photo in photos if photo not in held_out]
    started = time.monotonic()
    # Cut from every photo (so the shipped model and both folds share one cache), then the held-out fold's dropped.
    samples = build_samples(photos=photos, variants=recipe.variants, synthetic=recipe.synthetic,
                            seed=recipe.seed, work=work, workers=workers).without_photos({photo.name for photo in held_out})
    samples_seconds = time.monotonic() - started
    start = pretrained_params(np.random.default_rng(recipe.seed), find_model_files().rec, HeadShape(width=recipe.width))
    run = train_head(samples, seed=recipe.seed, epochs=recipe.epochs, batch=recipe.batch,
                     learning_rate=recipe.learning_rate, dropout=recipe.dropout, work=work, start=start)
    write_head(run.params, output, metadata={"recipe": json.dumps(asdict(recipe), sort_keys=True),
                                             "trained_on": f"{len(training_photos)} dev photos + synthetic"})
    summary = {
        "recipe": asdict(recipe), "output": str(output), "samples": len(samples),
        "dev_crops": sum(source.startswith("dev:") for source in samples.sources),
        "synthetic_crops": sum(source.startswith("synthetic:") for source in samples.sources),
        "samples_seconds": round(samples_seconds, 1), "training_seconds": round(run.seconds, 1),
        "crops_per_second_trained": round(run.images_per_second, 1), "final_loss": round(run.losses[-1], 4),
        "head_bytes": output.stat().st_size,
    }
    if evaluate:
        judged = held_out or photos
        correct, misses = exact_reads(judged, output)
        summary.update({"evaluated_on": "held-out fold" if held_out else "every dev photo (trained on)",
                        "photos": len(judged), "exact": correct, "exact_share": round(correct / len(judged), 3),
                        "misses": misses})
    return summary
