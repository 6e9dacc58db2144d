"""Plate-reading accuracy and speed on a labelled folder.

    python bench/alpr_accuracy.py [FOLDER] [--verbose]

FOLDER holds images and a ``groundtruth.tsv`` (``image x y w h PLATE``); the
default is the OpenALPR US dev split beside the checkout.  Prints one JSON
object.  Timing covers ``read_image`` only (model load excluded), one thread: wall
milliseconds, and CPU milliseconds, which a loaded machine disturbs less.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from rtcc.alpr.reader import ImageReadError, PlateReader

DEFAULT = REPO / ".." / "shared" / "data" / "alpr" / "openalpr-us-dev"


def norm(s: str) -> str:
    return "".join(ch for ch in s.upper() if ch.isalnum())


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    args = [a for a in argv if not a.startswith("--")]
    folder = Path(args[0]) if args else DEFAULT
    rows = []
    for line in (folder / "groundtruth.tsv").read_text().splitlines():
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 6:
            rows.append((parts[0], norm(parts[5])))
    reader = PlateReader(threads=1)
    exact = 0
    in_candidates = 0
    char_errors = 0
    char_total = 0
    times = []
    cpu_times = []
    misses = []
    for name, truth in rows:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            reads = reader.read_image(folder / name)
        except ImageReadError:  # a missing or corrupt image counts as a miss, the others are still read
            reads = []
        times.append((time.perf_counter() - t0) * 1000)
        cpu_times.append((time.process_time() - c0) * 1000)
        got = norm(reads[0].plate) if reads else ""
        exact += got == truth
        in_candidates += any(norm(c.plate) == truth for r in reads for c in r.candidates)
        char_errors += min(edit_distance(got, truth), len(truth))
        char_total += len(truth)
        if got != truth:
            misses.append({"image": name, "truth": truth, "read": got})
    n = len(rows)
    out = {
        "n": n,
        "exact": round(100 * exact / max(n, 1), 2),  # percent of images whose best plate equals the truth
        "char_accuracy": round(100 * (1 - char_errors / max(char_total, 1)), 2),  # percent, by edit distance
        "truth_in_candidates_pct": round(100 * in_candidates / max(n, 1), 2),
        "ms_p50": round(percentile(times, 0.5), 1),
        "ms_p95": round(percentile(times, 0.95), 1),
        "ms_mean": round(sum(times) / max(n, 1), 1),
        "cpu_ms_p50": round(percentile(cpu_times, 0.5), 1),
        "cpu_ms_mean": round(sum(cpu_times) / max(n, 1), 1),
        "threads": 1,
        "folder": str(folder),
        "models": [reader.model_files.det.name, reader.model_files.rec.name],
    }
    if verbose:
        out["misses"] = misses
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
