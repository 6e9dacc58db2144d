// Live view: fragmented MP4 from /api/v1/cameras/{id}/live into Media Source Extensions, held near the live edge.
// No transcoding happens anywhere: the server forwards the camera's own H.264.

const KEEP_SECONDS = 10; // buffer kept behind the playhead; older video is removed so memory stays flat
const MAX_LAG_SECONDS = 1.0; // further behind the live edge than this: jump forward
const LIVE_EDGE_MARGIN_SECONDS = 0.15; // where a jump lands, just short of the newest frame
const CATCH_UP_LAG_SECONDS = 0.3; // above this, play 10 % fast; below it the buffer still holds ~3 fragments
const MAX_PENDING_BUFFERS = 120; // appends waiting for the SourceBuffer; beyond this the oldest wait is dropped

/**
 * Play a camera live in `video`. Returns {close()}; `onStatus(message)` receives the server's status JSON.
 */
export function playLive(video, wsUrl, { onStatus = () => {} } = {}) {
  const socket = new WebSocket(wsUrl);
  socket.binaryType = "arraybuffer";
  let mediaSource = null;
  let sourceBuffer = null;
  let pending = []; // appends in arrival order, waiting while the SourceBuffer is busy
  let expectInit = false; // the next binary message is an init segment
  let snapshotMode = false;
  let lastSnapshotUrl = null;
  let closed = false;

  video.muted = true; // browsers only autoplay muted video
  video.playsInline = true;

  function startMediaSource(mime) {
    if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) {
      onStatus({ type: "status", state: "unsupported", detail: `this browser cannot play ${mime}` });
      return false;
    }
    if (sourceBuffer) {
      // A new upstream (reconnect): same SourceBuffer, possibly a new codec; sequence mode keeps time rising.
      if (sourceBuffer.changeType) sourceBuffer.changeType(mime);
      return true;
    }
    mediaSource = new MediaSource();
    video.src = URL.createObjectURL(mediaSource);
    mediaSource.addEventListener("sourceopen", () => {
      URL.revokeObjectURL(video.src);
      sourceBuffer = mediaSource.addSourceBuffer(mime);
      // Sequence mode: dropped fragments leave no hole in the timeline, so playback never stalls on a gap.
      sourceBuffer.mode = "sequence";
      sourceBuffer.addEventListener("updateend", appendNext);
      appendNext();
    }, { once: true });
    return true;
  }

  function appendNext() {
    // A MediaSource whose element went to another player is "closed": its SourceBuffer is gone.
    if (!sourceBuffer || closed || mediaSource.readyState === "closed" || sourceBuffer.updating) return;
    if (trimOldVideo()) return; // remove() is running; updateend calls back here
    const next = pending.shift();
    if (!next) return;
    try {
      sourceBuffer.appendBuffer(next);
    } catch (error) {
      if (error.name === "QuotaExceededError") {
        pending.unshift(next); // the buffer is full: trim harder, then retry
        trimOldVideo(2);
      } else {
        onStatus({ type: "status", state: "error", detail: String(error) });
      }
    }
  }

  function trimOldVideo(keepSeconds = KEEP_SECONDS) {
    const buffered = sourceBuffer.buffered;
    if (!buffered.length) return false;
    const removeBefore = video.currentTime - keepSeconds;
    if (buffered.start(0) < removeBefore - 1) {
      sourceBuffer.remove(buffered.start(0), removeBefore);
      return true;
    }
    return false;
  }

  function keepNearLiveEdge() {
    if (!sourceBuffer || closed || !video.buffered.length) return;
    const liveEdge = video.buffered.end(video.buffered.length - 1);
    const lag = liveEdge - video.currentTime;
    if (lag > MAX_LAG_SECONDS) {
      video.currentTime = liveEdge - LIVE_EDGE_MARGIN_SECONDS;
    } else {
      // Small lag: catch up by playing slightly faster rather than jumping.
      video.playbackRate = lag > CATCH_UP_LAG_SECONDS ? 1.1 : 1.0;
    }
    if (video.paused) video.play().catch(() => {});
  }
  const liveEdgeTimer = setInterval(keepNearLiveEdge, 250);

  function showSnapshot(bytes) {
    const url = URL.createObjectURL(new Blob([bytes], { type: "image/jpeg" }));
    video.poster = url;
    if (lastSnapshotUrl) URL.revokeObjectURL(lastSnapshotUrl);
    lastSnapshotUrl = url;
  }

  socket.addEventListener("message", (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === "init") {
        snapshotMode = false;
        expectInit = startMediaSource(message.mime);
      } else if (message.type === "snapshots") {
        snapshotMode = true;
      }
      onStatus(message);
      return;
    }
    if (snapshotMode) {
      showSnapshot(event.data);
      return;
    }
    if (!expectInit && !sourceBuffer && !mediaSource) return; // no playable stream announced
    expectInit = false;
    if (pending.length >= MAX_PENDING_BUFFERS) pending.splice(1, 1); // never grow without bound (keep the init)
    pending.push(event.data);
    appendNext();
  });
  socket.addEventListener("close", (event) => {
    if (!closed) onStatus({ type: "status", state: "closed", detail: event.reason || `code ${event.code}` });
  });

  return {
    close() {
      closed = true;
      clearInterval(liveEdgeTimer);
      socket.close();
      if (lastSnapshotUrl) URL.revokeObjectURL(lastSnapshotUrl);
      if (mediaSource && mediaSource.readyState === "open") {
        try { mediaSource.endOfStream(); } catch (_) { /* already ending */ }
      }
    },
  };
}
