"""The fixed point `rtcc alpr read IMAGE... --json`: one object per image, in order, errors inline."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
from support import alpr_dev_set

DEV_SET = alpr_dev_set()


def test_alpr_read_prints_one_json_object_per_image_in_order(tmp_path):
    truth = dict(line.split("\t")[0::5] for line in (DEV_SET / "groundtruth.tsv").read_text().splitlines() if line.strip())
    images = sorted(truth)[:2]
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8 not really a jpeg")
    paths = [str(DEV_SET / images[0]), str(corrupt), str(DEV_SET / images[1])]
    result = subprocess.run([sys.executable, "-m", "rtcc.cli", "alpr", "read", *paths, "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == paths
    assert "error" in lines[1] and "plates" not in lines[1]
    for line in (lines[0], lines[2]):
        assert isinstance(line["plates"], list)
        for plate in line["plates"]:
            assert set(plate) == {"plate", "confidence", "box", "region", "jurisdiction", "format", "candidates"}
            assert plate["region"] == "us"  # the formats read with; the state (e.g. "us-ca") is the jurisdiction
            assert plate["format"] is None or set(plate["format"]) <= set("LDA")
            assert len(plate["box"]) == 4 and 0 <= plate["confidence"] <= 1
            assert plate["candidates"][0]["plate"] == plate["plate"]
        confidences = [plate["confidence"] for plate in line["plates"]]
        assert confidences == sorted(confidences, reverse=True)  # best first


def rendered_plate(path, text: str):
    image = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(image, (200, 150), (440, 260), (255, 255, 255), -1)
    cv2.rectangle(image, (200, 150), (440, 260), (30, 30, 30), 3)
    cv2.putText(image, text, (215, 228), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 4, cv2.LINE_AA)
    cv2.imwrite(str(path), image)
    return str(path)


def read_json(*args, env=None):
    result = subprocess.run([sys.executable, "-m", "rtcc.cli", "alpr", "read", *args, "--json"],
                            capture_output=True, text=True, timeout=120, env=env)
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def test_region_option_reads_with_that_region_s_formats(tmp_path):
    french = rendered_plate(tmp_path / "fr.png", "AB123CD")
    mercosur = rendered_plate(tmp_path / "br.png", "OBC1D23")  # letter O first: a digit there would not fit
    best = {}
    for region in ("eu", "br", "us"):
        result, lines = read_json(french, mercosur, "--region", region)
        assert result.returncode == 0, result.stderr
        best[region] = [line["plates"][0] for line in lines]
        assert all(plate["region"] == region for plate in best[region])
    assert (best["eu"][0]["plate"], best["eu"][0]["format"]) == ("AB123CD", "LLDDDLL")
    assert best["eu"][0]["jurisdiction"] is None  # France and Italy both issue it
    assert (best["br"][1]["plate"], best["br"][1]["format"], best["br"][1]["jurisdiction"]) == ("OBC1D23", "LLLDLDD", "br")
    # US plates print O and 0 alike, so the US formats never report an O, and no US series is LLLDLDD.
    assert "O" not in best["us"][1]["plate"] and best["us"][1]["format"] != "LLLDLDD"


def test_unknown_region_is_a_clear_error_before_anything_is_read(tmp_path):
    image = rendered_plate(tmp_path / "plate.png", "KRT4815")
    result, lines = read_json(image, "--region", "mars")
    assert result.returncode == 2 and lines == []
    assert "mars" in result.stderr and "br, eu, us" in result.stderr


def test_alpr_train_writes_a_head_the_reader_then_reads_with(tmp_path):
    """`rtcc alpr train` end to end on a small labelled folder: samples, training, the head, its evaluation."""
    from rtcc.alpr.training.synthetic import render_scene

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(3)
    lines = []
    for number in range(6):
        scene = render_scene(rng, "us", size=(640, 360), strength=0.2, stacked=0)
        cv2.imwrite(str(photos / f"car{number}.jpg"), scene.image)
        lines.append("\t".join([f"car{number}.jpg", *map(str, scene.box), scene.text]))
    (photos / "groundtruth.tsv").write_text("\n".join(lines) + "\n")
    head = tmp_path / "head.onnx"

    result = subprocess.run([sys.executable, "-m", "rtcc.cli", "alpr", "train", "--dev", str(photos), "--work",
                             str(tmp_path / "work"), "--output", str(head), "--variants", "2", "--epochs", "2",
                             "--synthetic", "us=20", "--holdout-fold", "1"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["synthetic_crops"] > 0 and summary["dev_crops"] > 0
    assert summary["evaluated_on"] == "held-out fold" and 0 <= summary["exact"] <= summary["photos"] < 6
    assert summary["crops_per_second_trained"] > 0 and head.stat().st_size == summary["head_bytes"]

    read = subprocess.run([sys.executable, "-m", "rtcc.cli", "alpr", "read", str(photos / "car0.jpg"), "--json"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "RTCC_ALPR_PLATE_HEAD": str(head)})
    assert read.returncode == 0, read.stderr
    assert "plates" in json.loads(read.stdout)

    refused = subprocess.run([sys.executable, "-m", "rtcc.cli", "alpr", "train", "--dev", str(tmp_path)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "groundtruth.tsv" in refused.stdout + refused.stderr
