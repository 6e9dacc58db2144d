"""Look at synthetic plates: a grid of samples, optionally beside real crops of a dev set.

    python -m rtcc.alpr.training.synthetic --grid OUT.png --region us --count 48 --seed 1 \
        [--real ../shared/data/alpr/openalpr-us-dev] [--scenes] [--bench 200]

Each cell is the plate box padded by half its size on each side (what the reader's
row finder and rectifier see), scaled to one cell size.  With ``--real`` the grid
alternates a row of real crops (cut by groundtruth.tsv boxes) and a row of
synthetic ones.  Write the grid outside the repository when it shows dev images.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import cv2
import numpy as np

from .synthetic import render_scene

CELL_W, CELL_H = 192, 96


def _cell(img: np.ndarray, box, label: str) -> np.ndarray:
    x, y, w, h = box
    x0, y0 = max(0, int(x - w * 0.5)), max(0, int(y - h * 0.5))
    x1, y1 = min(img.shape[1], int(x + w * 1.5)), min(img.shape[0], int(y + h * 1.5))
    crop = img[y0:y1, x0:x1]
    if crop.size == 0:
        crop = np.zeros((CELL_H, CELL_W, 3), np.uint8)
    ratio = min(CELL_W / crop.shape[1], (CELL_H - 14) / crop.shape[0])
    crop = cv2.resize(crop, (max(1, int(crop.shape[1] * ratio)), max(1, int(crop.shape[0] * ratio))),
                      interpolation=cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR)
    cell = np.full((CELL_H, CELL_W, 3), 40, np.uint8)
    cell[:crop.shape[0], :crop.shape[1]] = crop
    cv2.putText(cell, label, (3, CELL_H - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 255), 1, cv2.LINE_AA)
    return cell


def real_cells(directory: Path, count: int) -> list[np.ndarray]:
    """Crops of the dev set cut by its groundtruth.tsv boxes (image, x, y, w, h, plate)."""
    cells = []
    with open(directory / "groundtruth.tsv", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 6 or not row[1].strip().isdigit():
                continue
            img = cv2.imread(str(directory / row[0]))
            if img is None:
                continue
            cells.append(_cell(img, tuple(int(v) for v in row[1:5]), row[5]))
            if len(cells) >= count:
                break
    return cells


def grid(cells: list[np.ndarray], columns: int) -> np.ndarray:
    rows = []
    for i in range(0, len(cells), columns):
        row = cells[i:i + columns]
        row += [np.zeros_like(cells[0])] * (columns - len(row))
        rows.append(np.concatenate(row, axis=1))
    return np.concatenate(rows, axis=0)


def _inside_checkout(path: Path) -> bool:
    """True when ``path`` lies in the source checkout this package runs from (dev images stay out of it)."""
    root = Path(__file__).resolve().parents[4]
    return (root / ".git").exists() and path.resolve().is_relative_to(root)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m rtcc.alpr.training.synthetic", description=__doc__.splitlines()[0])
    p.add_argument("--grid", type=Path, help="write a PNG grid of samples here")
    p.add_argument("--region", default="us", help="us, eu, br, or one jurisdiction such as eu-fr or us-ca")
    p.add_argument("--count", type=int, default=48)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--strength", type=float, default=1.0, help="degradation strength (0 clean)")
    p.add_argument("--real", type=Path, help="a dev set folder with groundtruth.tsv: real crops beside synthetic")
    p.add_argument("--scenes", action="store_true", help="whole scenes (640x360) instead of plate crops")
    p.add_argument("--bench", type=int, default=0, help="render this many 640x360 scenes and print scenes/s")
    a = p.parse_args(argv)
    if a.real and a.grid and _inside_checkout(a.grid):
        p.error(f"{a.grid} is inside the repository: a grid with --real holds dev images, write it elsewhere (/tmp)")
    rng = np.random.default_rng(a.seed)
    if a.bench:
        cv2.setNumThreads(1)  # one core, as the training loop's workers use it
        render_scene(rng, a.region, size=(640, 360))  # fonts load once
        # Batches of 50: the best batch estimates a quiet core on a machine shared with other work.
        batches = []
        for start in range(0, a.bench, 50):
            n, cpu = min(50, a.bench - start), time.process_time()
            for _ in range(n):
                render_scene(rng, a.region, size=(640, 360), strength=a.strength)
            batches.append((n, time.process_time() - cpu))
        total = sum(n for n, _ in batches) / sum(dt for _, dt in batches)
        best = max(n / dt for n, dt in batches)
        print(f"{total:.1f} scenes per CPU second, best batch of 50 {best:.1f} (640x360, region {a.region})")
    if not a.grid:
        return
    columns = 8 if not a.scenes else 4
    if a.scenes:
        cells = []
        for _ in range(a.count):
            s = render_scene(rng, a.region, size=(640, 360), strength=a.strength)
            x, y, w, h = s.box
            img = s.image.copy()
            cv2.rectangle(img, (x, y), (x + w, y + h), (0, 255, 0), 1)
            cv2.putText(img, s.text, (5, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 2)
            cells.append(cv2.resize(img, (320, 180), interpolation=cv2.INTER_AREA))
        cv2.imwrite(str(a.grid), grid(cells, columns))
        return
    synth = []
    for _ in range(a.count):
        s = render_scene(rng, a.region, strength=a.strength)
        synth.append(_cell(s.image, s.box, f"{s.text} {s.jurisdiction}"))
    if a.real:
        real = real_cells(a.real, a.count)
        cells = []
        for i in range(0, max(len(real), len(synth)), columns):
            cells += (real[i:i + columns] + [np.zeros_like(synth[0])] * columns)[:columns]
            cells += (synth[i:i + columns] + [np.zeros_like(synth[0])] * columns)[:columns]
        synth = cells
    cv2.imwrite(str(a.grid), grid(synth, columns))
    print(f"wrote {a.grid}")


if __name__ == "__main__":
    main()
