"""Glass-to-glass latency in a real browser: live-player.js in Debian's chromium, reading the stamp off the screen.

    python bench/live_browser_latency.py [--seconds 10]

Same stamped source as bench/live_latency.py (MPEG-TS over local TCP), relay and WebSocket as in
`rtcc serve`; the page plays it with playLive() and, on each presented frame
(requestVideoFrameCallback), copies the picture to a canvas and reads the time blocks back.
Latency = presented-at - stamped-at, so it includes the MSE buffer the player keeps. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

import live_latency as stamped  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PAGE = """<video id=video autoplay muted></video><script type=module>
import {playLive} from '/live-player.js';
window.statuses = [];
playLive(document.getElementById('video'), `ws://${location.host}/live`, {onStatus: m => window.statuses.push(m)});
</script>"""
# Runs in the page: stamps of `count` presented frames, as latencies in ms.
READ_PRESENTED_FRAMES = """async ([count, width, height, bits, blockWidth, blockTop, blockHeight]) => {
  const video = document.getElementById('video');
  const canvas = document.createElement('canvas'); canvas.width = width; canvas.height = height;
  const context = canvas.getContext('2d', {willReadFrequently: true});
  const latencies = []; let unreadable = 0;
  for (let frame = 0; frame < count; frame++) {
    await new Promise(resolve => video.requestVideoFrameCallback(resolve));
    const presentedAt = Date.now();
    context.drawImage(video, 0, 0);
    const pixels = context.getImageData(0, 0, width, height).data;
    let stamp = 0n, readable = true;
    for (let bit = 0; bit < bits; bit++) {
      const x = 10 + bit * blockWidth + (blockWidth >> 1);
      const upper = pixels[((blockTop + (blockHeight >> 1)) * width + x) * 4] > 128;
      const lower = pixels[((blockTop + blockHeight + (blockHeight >> 1)) * width + x) * 4] > 128;
      if (upper === lower) { readable = false; break; }
      stamp = (stamp << 1n) | (upper ? 1n : 0n);
    }
    if (readable) latencies.push(presentedAt - Number(stamp)); else unreadable++;
  }
  const lag = video.buffered.length ? video.buffered.end(video.buffered.length - 1) - video.currentTime : null;
  return {latencies, unreadable, lag};
}"""


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, HTMLResponse
    from starlette.routing import Route, WebSocketRoute

    from rtcc.video.live.registry import LiveRelayRegistry, serve_live_viewer

    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=10.0, help="measured after a 4 s settle")
    arguments = options.parse_args()

    stop = threading.Event()
    source_url, source_processes = stamped.serve_stamped_source(stamped.free_port(), stop)
    registry = LiveRelayRegistry()

    async def live(websocket):
        await websocket.accept()
        await serve_live_viewer(websocket, registry.get_or_start(1, source_url))

    async def page(_request):
        return HTMLResponse(PAGE)

    async def player(_request):
        return FileResponse(REPO / "src/rtcc/web/static/live-player.js", media_type="text/javascript")

    app = Starlette(routes=[Route("/", page), Route("/live-player.js", player), WebSocketRoute("/live", live)])
    port = stamped.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    try:
        while not server.started:
            time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
            page_view = browser.new_page()
            page_view.goto(f"http://127.0.0.1:{port}/")
            time.sleep(4)  # first picture, then the player settles at the live edge
            result = page_view.evaluate(READ_PRESENTED_FRAMES, [
                int(arguments.seconds * stamped.FPS), stamped.WIDTH, stamped.HEIGHT, stamped.BITS,
                stamped.BLOCK_WIDTH, stamped.BLOCK_TOP, stamped.BLOCK_HEIGHT])
            statuses = page_view.evaluate("window.statuses.map(s => s.codec || s.state)")
            browser.close()
    finally:
        stop.set()
        server.should_exit = True
        for process in source_processes:
            process.kill()
            process.wait()
    latencies = result["latencies"]
    print(json.dumps({
        "browser_latency_ms_p50": stamped.percentile(latencies, 0.5),
        "browser_latency_ms_p95": stamped.percentile(latencies, 0.95),
        "browser_latency_ms_max": stamped.percentile(latencies, 1.0),
        "frames_presented_measured": len(latencies), "frames_unreadable": result["unreadable"],
        "buffer_lag_s_at_end": round(result["lag"], 3) if result["lag"] is not None else None,
        "player_messages": statuses, "browser": "Debian chromium (headless), MSE, live-player.js",
    }))


if __name__ == "__main__":
    main()
