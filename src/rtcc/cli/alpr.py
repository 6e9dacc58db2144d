"""`rtcc alpr ...`: licence-plate reading from the command line."""

from __future__ import annotations

from pathlib import Path

import typer

from rtcc.cli.common import err, out

alpr_app = typer.Typer(help="Licence-plate reading.", no_args_is_help=True)


@alpr_app.command("read")
def alpr_read(
    images: list[Path] = typer.Argument(..., help="Image files to read."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per image per line, in input order."),
    region: str = typer.Option(
        "us", "--region", envvar="RTCC_ALPR_REGION",
        help="Plate formats to read with: us (US states), eu (EU countries), br (Brazil).",
    ),
) -> None:
    """Read licence plates from still images; a bad file is reported and the others still read."""
    import json

    from rtcc.alpr.reader import PlateReader, read_images_as_json
    from rtcc.alpr.reader.formats import available_regions

    if region.strip().lower() not in available_regions():
        err.print(f"[red]Unknown plate region {region!r}[/red]: known regions are {', '.join(available_regions())}.")
        raise typer.Exit(2)
    failed = 0
    for result in read_images_as_json([str(path) for path in images], PlateReader(region=region)):
        failed += "error" in result
        if as_json:
            print(json.dumps(result), flush=True)
        elif "error" in result:
            err.print(f"{result['image']}: [red]{result['error']}[/red]")
        else:
            plates = ", ".join(f"{p['plate']} ({p['confidence']:.2f})" for p in result["plates"]) or "no plate"
            out.print(f"{result['image']}: {plates}")
    if failed == len(images):
        raise typer.Exit(1)


@alpr_app.command("train")
def alpr_train(
    work: Path = typer.Option(Path(".cache/alpr-training"), help="Folder for samples and checkpoints (a rerun resumes)."),
    dev: Path = typer.Option(None, help="Labelled photos (groundtruth.tsv); default ../shared/data/alpr/openalpr-us-dev."),
    output: Path = typer.Option(None, help="Where to write the head (default: the package's plate_head.onnx)."),
    seed: int = typer.Option(13, help="Seed of everything random in the recipe."),
    epochs: int = typer.Option(None, help="Passes over the samples (default: the recipe's)."),
    variants: int = typer.Option(None, help="Degraded copies of each dev photo (default: the recipe's)."),
    synthetic: str = typer.Option(None, help="Synthetic scenes per region, e.g. us=3000,eu=1000,br=600 (default: the "
                                             "recipe's; 0 for none)."),
    holdout_fold: int = typer.Option(None, help="Keep dev fold 0 or 1 out of training and report its figure."),
    workers: int = typer.Option(2, help="Processes that cut crops (and backbone threads)."),
) -> None:
    """Train the plate head (docs/alpr-training.md): the shipped model's recipe, reproducible from its seed."""
    import json
    import logging

    from rtcc.alpr.reader.models import PLATE_HEAD
    from rtcc.alpr.training.recipe import DEV_SET, Recipe, run_recipe

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if holdout_fold not in (None, 0, 1):
        err.print("--holdout-fold is 0 or 1")
        raise typer.Exit(2)
    dev = dev or DEV_SET
    if not (dev / "groundtruth.tsv").is_file():
        err.print(f"{dev} has no groundtruth.tsv")
        raise typer.Exit(2)
    recipe = Recipe(seed=seed, holdout_fold=holdout_fold)
    if epochs is not None:
        recipe.epochs = epochs
    if variants is not None:
        recipe.variants = variants
    if synthetic is not None:
        try:
            recipe.synthetic = {} if synthetic.strip() == "0" else {
                region.strip(): int(count) for region, count in (part.split("=") for part in synthetic.split(","))}
        except ValueError:
            err.print(f"--synthetic takes region=count pairs (us=3000,eu=1000), not {synthetic!r}")
            raise typer.Exit(2) from None
    summary = run_recipe(recipe, dev=dev, work=work, output=output or PLATE_HEAD, workers=workers)
    print(json.dumps(summary), flush=True)
