"""The fixed point `rtcc alpr read IMAGE... --json`: one object per image, in order, errors inline."""

import json
import subprocess
import sys
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
            assert set(plate) == {"plate", "confidence", "box", "region", "candidates"}
            assert len(plate["box"]) == 4 and 0 <= plate["confidence"] <= 1
            assert plate["candidates"][0]["plate"] == plate["plate"]
        confidences = [plate["confidence"] for plate in line["plates"]]
        assert confidences == sorted(confidences, reverse=True)  # best first
