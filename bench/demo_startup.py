"""How long `rtcc demo` takes to answer /healthz: first start (fresh data dir) and restart.

Prints one JSON object. Target (issue 2): under 15 s on this machine.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from measure import free_port  # bench/ is the script's folder

RUNS = 3


def seconds_until_healthy(data_dir: Path) -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "rtcc.cli", "demo", "--data-dir", str(data_dir), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit("demo exited before it was healthy")
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    first, again = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as directory:
            first.append(seconds_until_healthy(Path(directory) / "data"))
            again.append(seconds_until_healthy(Path(directory) / "data"))
    print(json.dumps({
        "benchmark": "demo_startup",
        "runs": RUNS,
        "first_start_s_median": round(statistics.median(first), 2),
        "first_start_s_max": round(max(first), 2),
        "restart_s_median": round(statistics.median(again), 2),
        "target_s": 15,
    }))


if __name__ == "__main__":
    main()
