// The video wall: 1, 4, 9 or 16 tiles. Idle tiles show a fresh still of the recording; a tile goes live when
// focused or when something happens on its camera (a plate hit); any tile scrubs back into the recording.
import { cameras, can, element, on, request, liveUrl, DRAG_TYPE } from "/static/console-state.js";

const LAYOUTS = [1, 4, 9, 16];
const MAX_LIVE = 4;                 // live tiles at once; the longest-live one goes back to stills
const SNAPSHOT_EVERY_MS = 10000;    // idle tiles refresh their still this often
const SNAPSHOT_LAG_S = 10;          // stills come from the recording, whose newest segment closes every few seconds
const MOTION_LIVE_MS = 60000;       // a tile woken by activity stays live this long unless focused
const STORAGE_KEY = "rtcc.wall";
const wall = document.getElementById("wall");
const follow = document.getElementById("follow-incidents");
let layout = 4;
let slots = [];        // camera id or null per tile
const tiles = [];      // per tile: {node, cameraId, mode, player, timer, liveSince, motionTimer}
let focused = null;

function fitLayout(count) {
  return LAYOUTS.find((size) => size >= count) || 16;
}

function save() {
  localStorage.setItem(STORAGE_KEY, JSON.stringify({ layout, slots }));
}

function stopTile(tile) {
  if (tile.player) { tile.player.close(); tile.player = null; }
  clearInterval(tile.timer);
  clearTimeout(tile.motionTimer);
  tile.timer = null;
}

function setState(tile, text) {
  tile.node.querySelector(".tile-state").textContent = text;
}

function view(tile, child) {
  tile.node.querySelector(".tile-view").replaceChildren(child);
  return child;
}

async function refreshSnapshot(tile, image) {
  if (!can("video.playback")) { setState(tile, "stills need playback rights; click to watch live"); return; }
  const at = new Date(Date.now() - SNAPSHOT_LAG_S * 1000).toISOString();
  try {
    const response = await fetch(`/api/v1/cameras/${tile.cameraId}/snapshot?at=${encodeURIComponent(at)}`);
    if (!response.ok) throw new Error((await response.json()).message || response.statusText);
    const url = URL.createObjectURL(await response.blob());
    if (image.dataset.url) URL.revokeObjectURL(image.dataset.url);
    image.src = url;
    image.dataset.url = url;
    setState(tile, `still ${new Date(Date.now() - SNAPSHOT_LAG_S * 1000).toLocaleTimeString()}`);
  } catch (error) {
    setState(tile, `no still (${error.message}); click to watch live`);
  }
}

function goIdle(tile) {
  stopTile(tile);
  tile.mode = "idle";
  tile.node.dataset.mode = "idle";
  const image = view(tile, element("img", { alt: "latest still", class: "tile-still", "data-testid": "tile-still" }));
  refreshSnapshot(tile, image);
  tile.timer = setInterval(() => { if (!document.hidden) refreshSnapshot(tile, image); }, SNAPSHOT_EVERY_MS);
  tile.node.querySelector(".scrub").value = 0;
}

async function goLive(tile) {
  if (!can("video.live")) { setState(tile, "you may not watch live"); return; }
  if (!cameras.get(tile.cameraId)?.streams) return;  // registry-only: nothing to play
  stopTile(tile);
  const live = tiles.filter((other) => other.mode === "live" && other !== tile).sort((a, b) => a.liveSince - b.liveSince);
  while (live.length >= MAX_LIVE) goIdle(live.shift());
  tile.mode = "live";
  tile.liveSince = Date.now();
  tile.node.dataset.mode = "live";
  tile.node.querySelector(".scrub").value = 0;
  const video = view(tile, element("video", { muted: true, autoplay: true, playsinline: true, "data-testid": "tile-video" }));
  const { playLive } = await import("/static/live-player.js");
  if (tile.mode !== "live" || tile.node.querySelector(".tile-view video") !== video) return;
  tile.player = playLive(video, liveUrl(tile.cameraId), {
    onStatus: (status) => setState(tile, typeof status === "string" ? status : [status.state, status.detail].filter(Boolean).join(": ")),
  });
  setState(tile, "live");
}

function scrub(tile, minutesBack) {
  if (minutesBack <= 0) { goLive(tile); return; }
  if (!can("video.playback")) { setState(tile, "you may not play back recordings"); return; }
  stopTile(tile);
  tile.mode = "playback";
  tile.node.dataset.mode = "playback";
  const end = new Date(), start = new Date(end.getTime() - minutesBack * 60000);
  const query = new URLSearchParams({ start: start.toISOString(), end: end.toISOString() });
  const video = view(tile, element("video", { controls: true, autoplay: true, muted: true, playsinline: true, "data-testid": "tile-playback" }));
  video.src = `/api/v1/cameras/${tile.cameraId}/playback?${query}`;
  video.onerror = () => setState(tile, "nothing recorded in that range");
  video.play().catch(() => {});
  setState(tile, `recording from ${start.toLocaleTimeString()} (${minutesBack} min back)`);
}

function focus(tile) {
  if (focused && focused !== tile) focused.node.classList.remove("focused");
  focused = tile;
  tile.node.classList.add("focused");
  if (tile.cameraId !== null && tile.mode !== "live" && tile.mode !== "nostream") goLive(tile);
  if (tile.cameraId !== null) request("select-camera", { cameraId: tile.cameraId });
}

function buildTile(index) {
  const node = element("div", { class: "tile", "data-tile": index, "data-testid": `tile-${index}` },
    element("header", {},
      element("span", { class: "tile-name" }),
      element("button", { type: "button", class: "small tile-live", title: "Jump to live", text: "Live" }),
      element("input", { type: "range", class: "scrub", min: "-30", max: "0", step: "0.5", value: "0",
        title: "Scrub back into the recording (minutes)", "aria-label": "Minutes back" }),
      element("button", { type: "button", class: "small secondary tile-share", title: "Share to a field officer", text: "Share" }),
      element("button", { type: "button", class: "small secondary tile-close", title: "Remove from the wall", text: "×" })),
    element("div", { class: "tile-view" }),
    element("p", { class: "tile-state hint" }));
  const tile = { node, index, cameraId: null, mode: "empty", player: null, timer: null, liveSince: 0 };
  node.dataset.mode = "empty";
  node.querySelector(".tile-name").textContent = "empty — drop a camera here";
  node.querySelector(".tile-view").addEventListener("click", () => { if (tile.cameraId !== null) focus(tile); });
  node.querySelector(".tile-live").addEventListener("click", () => { if (tile.cameraId !== null) goLive(tile); });
  node.querySelector(".scrub").addEventListener("change", (event) => {
    if (tile.cameraId !== null) scrub(tile, -Number(event.target.value));
  });
  node.querySelector(".tile-share").addEventListener("click", () => { if (tile.cameraId !== null) request("share", { cameraId: tile.cameraId }); });
  node.querySelector(".tile-close").addEventListener("click", () => place(index, null));
  node.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes(DRAG_TYPE)) { event.preventDefault(); node.classList.add("drop"); }
  });
  node.addEventListener("dragleave", () => node.classList.remove("drop"));
  node.addEventListener("drop", (event) => {
    event.preventDefault();
    node.classList.remove("drop");
    const cameraId = Number(event.dataTransfer.getData(DRAG_TYPE));
    if (cameraId) place(index, cameraId);
  });
  return tile;
}

/** Put a camera (or nothing) on one tile. */
function place(index, cameraId) {
  const tile = tiles[index];
  stopTile(tile);
  const camera = cameraId === null ? null : cameras.get(cameraId);
  tile.cameraId = camera ? camera.id : null;
  slots[index] = tile.cameraId;
  tile.node.dataset.cameraId = tile.cameraId ?? "";
  tile.node.querySelector(".tile-name").textContent = camera ? `#${camera.id} ${camera.name}` : "empty — drop a camera here";
  if (!camera) {
    tile.mode = "empty";
    tile.node.dataset.mode = "empty";
    view(tile, element("span", { class: "hint", text: "" }));
    setState(tile, "");
  } else if (!camera.streams) {
    tile.mode = "nostream";
    tile.node.dataset.mode = "nostream";
    view(tile, element("span", { class: "hint", text: "No video stream: this camera is only registered." }));
    setState(tile, "");
  } else {
    goIdle(tile);
  }
  save();
}

function setLayout(size) {
  layout = size;
  for (const tile of tiles.splice(size)) stopTile(tile);
  slots = slots.slice(0, size);
  while (tiles.length < size) { tiles.push(buildTile(tiles.length)); slots.push(null); }
  wall.style.gridTemplateColumns = `repeat(${Math.sqrt(size)}, 1fr)`;
  wall.dataset.layout = size;
  wall.replaceChildren(...tiles.map((tile) => tile.node));
  document.querySelectorAll("[data-layout]").forEach((button) => button.classList.toggle("active", Number(button.dataset.layout) === size));
  tiles.forEach((tile, index) => { if (tile.cameraId === null && slots[index]) place(index, slots[index]); });
  save();
}

/** Where docked cameras go, as [tile index, camera id] pairs: one tile, the free tiles (growing the
 * layout), or a whole new layout for an incident. */
function placements({ ids, at, replace }) {
  if (at !== undefined) return [[at, ids[0]]];
  if (replace) {
    setLayout(fitLayout(ids.length));
    tiles.forEach((_, index) => { if (index >= ids.length) place(index, null); });
    return ids.slice(0, 16).map((id, index) => [index, id]);
  }
  const fresh = ids.filter((id) => !slots.includes(id));
  const used = slots.filter((id) => id !== null).length;
  if (used + fresh.length > layout && layout < 16) setLayout(fitLayout(used + fresh.length));
  const free = slots.map((id, index) => (id === null ? index : -1)).filter((index) => index >= 0);
  return free.slice(0, fresh.length).map((index, n) => [index, fresh[n]]);
}

function dock({ cameraIds, at, focus: focusFirst = false, replace = false, incidentId = null }) {
  const ids = cameraIds.filter((id) => cameras.has(id));
  if (!ids.length) return;
  const moves = placements({ ids, at, replace });
  moves.forEach(([index, id]) => place(index, id));
  if (moves.length) {
    wall.dataset.incident = incidentId ?? "";
    // When the wall last took cameras (bench/console_latency.py reads it).
    document.body.dataset.wallDockedAt = String(Date.now());
  }
  if (focusFirst || replace) {  // the first camera asked for, whether just placed or already on the wall
    const index = slots.indexOf(ids[0]);
    if (index >= 0) focus(tiles[index]);
  }
}

on("dock", dock);
/** The wall holds no camera: a console just opened, so the most urgent open incident may fill it. */
export function wallIsEmpty() {
  return slots.every((id) => id === null);
}
on("incident-cameras", ({ cameraIds, incidentId, automatic }) => {
  if (automatic && !follow.checked) return;
  dock({ cameraIds, replace: true, incidentId });
});

// Activity on a camera that is on the wall (a plate hit, motion): that tile goes live for a while.
document.addEventListener("rtcc-event", (event) => {
  const { type, data = {} } = event.detail;
  if (!["plate.alert", "camera.motion"].includes(type)) return;
  for (const tile of tiles) {
    if (tile.cameraId !== data.camera_id || tile.mode !== "idle") continue;
    goLive(tile).then(() => {
      tile.motionTimer = setTimeout(() => { if (tile.mode === "live" && tile !== focused) goIdle(tile); }, MOTION_LIVE_MS);
    });
  }
});

document.querySelectorAll("[data-layout]").forEach((button) =>
  button.addEventListener("click", () => setLayout(Number(button.dataset.layout))));
document.getElementById("wall-clear").addEventListener("click", () => tiles.forEach((_, index) => place(index, null)));

setLayout(layout);
on("cameras-loaded", () => {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    if (saved && LAYOUTS.includes(saved.layout)) {
      setLayout(saved.layout);
      saved.slots.forEach((id, index) => { if (id && cameras.has(id) && index < tiles.length) place(index, id); });
    }
  } catch (error) {
    localStorage.removeItem(STORAGE_KEY);
  }
});
