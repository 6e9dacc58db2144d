// The watch floor's map and camera panel: cameras (clustered when zoomed out) with view cones coloured by
// health, incidents by priority, plate hits, drones and field units; pick a camera to watch, scrub, export.
import { api, can, cameras, element, on, request, liveUrl, mapView, DRAG_TYPE } from "/static/console-state.js";
import { fillPurposes } from "/static/purposes.js";

const desk = document.getElementById("desk");
const STATUS_COLOURS = { recording: "#2ea043", connecting: "#d4a72c", offline: "#d1242f", stale: "#d1242f" };
const PRIORITY_COLOURS = { 1: "#ff4d4f", 2: "#fa8c16", 3: "#fadb14" };
const DETAIL_ZOOM = 17;        // from here on, every camera in view is drawn with its cone
const DETAIL_LIMIT = 600;      // ...or sooner, when this few cameras are in view
const CLUSTER_CELL_PX = 64;    // cluster grid cell on screen
const PAGE_SIZE = 50;          // cameras per page of the list
let selected = null;
let stopLive = null;

const map = L.map("map", { zoomControl: true, attributionControl: false, preferCanvas: false });
window.rtccMap = map;  // for tooling and benchmarks
mapView.centre = () => ({ latitude: map.getCenter().lat, longitude: map.getCenter().lng });
const clusterRenderer = L.canvas({ padding: 0.2 });
const cameraLayer = L.layerGroup().addTo(map);
const incidentLayer = L.layerGroup().addTo(map);
const hitLayer = L.layerGroup().addTo(map);
const droneLayer = L.layerGroup().addTo(map);
const unitLayer = L.layerGroup().addTo(map);
L.control.layers(null, { Cameras: cameraLayer, Incidents: incidentLayer, "Plate hits": hitLayer,
  Drones: droneLayer, "Field units": unitLayer }, { collapsed: false }).addTo(map);
const drawnCameras = new Map(); // camera id -> {cone, dot} while drawn in detail

async function drawBasemap() {
  if (desk.dataset.tiles) {
    L.tileLayer(desk.dataset.tiles, { maxZoom: 20 }).addTo(map);
    return;
  }
  const response = await fetch("/console/basemap.geojson");
  // Signed out meanwhile: the answer is the sign-in page, not streets.
  if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) return;
  L.geoJSON(await response.json(), { style: { color: "#5b6b7b", weight: 3 }, interactive: false }).addTo(map);
}

const colour = (camera) => STATUS_COLOURS[camera.status] || "#8b9bab";

/** The view cone as [lat, lon] points: apex, then an arc of the field of view at its range. */
function viewCone(camera) {
  const points = [[camera.latitude, camera.longitude]];
  const metresPerDegreeLat = 111320, metresPerDegreeLon = 111320 * Math.cos(camera.latitude * Math.PI / 180);
  const steps = 8;
  for (let i = 0; i <= steps; i += 1) {
    const bearing = (camera.heading_deg - camera.fov_deg / 2 + (camera.fov_deg * i) / steps) * Math.PI / 180;
    points.push([camera.latitude + (Math.cos(bearing) * camera.range_m) / metresPerDegreeLat,
      camera.longitude + (Math.sin(bearing) * camera.range_m) / metresPerDegreeLon]);
  }
  return points;
}

function drawCameraInDetail(camera) {
  const cone = L.polygon(viewCone(camera), { color: colour(camera), weight: 1, fillOpacity: 0.22 });
  const dot = L.circleMarker([camera.latitude, camera.longitude],
    { radius: 5, color: colour(camera), fillOpacity: 1, bubblingMouseEvents: false }).bindTooltip(camera.name);
  cone.on("click", () => select(camera.id));
  dot.on("click", () => select(camera.id));
  dot.on("mousedown", (event) => startMapDrag(camera, event.originalEvent));
  cone.addTo(cameraLayer);
  dot.addTo(cameraLayer);
  dot.getElement()?.setAttribute("data-camera-id", camera.id);  // for tests and tooling
  drawnCameras.set(camera.id, { cone, dot });
}

function drawCluster(cell) {
  const radius = Math.min(28, 9 + Math.log2(cell.count) * 3);
  const marker = L.circleMarker([cell.lat / cell.count, cell.lon / cell.count], {
    renderer: clusterRenderer, radius, color: cell.bad ? STATUS_COLOURS.offline : "#3d8bfd", weight: 2, fillOpacity: 0.55,
  }).bindTooltip(`${cell.count} cameras${cell.bad ? `, ${cell.bad} not working` : ""}`);
  marker.on("click", () => map.fitBounds(cell.bounds, { padding: [30, 30] }));
  marker.addTo(cameraLayer);
}

/** Redraw cameras for the current view: each with its cone when few or close, else clustered on a grid. */
function drawCameras() {
  const started = performance.now();
  try {
    drawCamerasInView();
  } finally {  // how long a redraw takes (bench/map_first_paint.py)
    document.body.dataset.lastDrawMs = (performance.now() - started).toFixed(1);
    document.body.dataset.drawCount = String(Number(document.body.dataset.drawCount || 0) + 1);
  }
}

function drawCamerasInView() {
  cameraLayer.clearLayers();
  drawnCameras.clear();
  const bounds = map.getBounds().pad(0.25);
  const inView = [];
  for (const camera of cameras.values()) if (bounds.contains([camera.latitude, camera.longitude])) inView.push(camera);
  if (map.getZoom() >= DETAIL_ZOOM || inView.length <= DETAIL_LIMIT) {
    inView.forEach(drawCameraInDetail);
    return;
  }
  const cells = new Map();
  for (const camera of inView) {
    const point = map.latLngToLayerPoint([camera.latitude, camera.longitude]);
    const key = `${Math.floor(point.x / CLUSTER_CELL_PX)}:${Math.floor(point.y / CLUSTER_CELL_PX)}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, cell = { count: 0, lat: 0, lon: 0, bad: 0, bounds: L.latLngBounds([]) });
    cell.count += 1;
    cell.lat += camera.latitude;
    cell.lon += camera.longitude;
    cell.bounds.extend([camera.latitude, camera.longitude]);
    if (camera.streams && (camera.status === "offline" || camera.status === "stale")) cell.bad += 1;
  }
  cells.forEach(drawCluster);
}

// --- dragging a camera from the map onto the wall (Leaflet's vector markers are not HTML-draggable) ---
function startMapDrag(camera, start) {
  if (start.button !== 0) return;
  map.dragging.disable();
  let ghost = null;
  const move = (event) => {
    if (!ghost && Math.hypot(event.clientX - start.clientX, event.clientY - start.clientY) < 6) return;
    if (!ghost) ghost = document.body.appendChild(element("div", { class: "drag-ghost", text: camera.name }));
    ghost.style.left = `${event.clientX + 8}px`;
    ghost.style.top = `${event.clientY + 8}px`;
  };
  const up = (event) => {
    document.removeEventListener("mousemove", move);
    document.removeEventListener("mouseup", up);
    map.dragging.enable();
    if (!ghost) return;
    ghost.remove();
    const tile = document.elementFromPoint(event.clientX, event.clientY)?.closest("[data-tile]");
    if (tile) request("dock", { cameraIds: [camera.id], at: Number(tile.dataset.tile) });
  };
  document.addEventListener("mousemove", move);
  document.addEventListener("mouseup", up);
}

// --- the selected camera: live, playback, export, share ---
function isoFromLocal(value) {
  return new Date(value).toISOString();
}

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function select(cameraId, { pan = false } = {}) {
  const camera = cameras.get(cameraId);
  if (!camera) return;
  selected = camera;
  liveGeneration += 1;
  if (stopLive) { stopLive(); stopLive = null; }
  if (pan) map.setView([camera.latitude, camera.longitude], Math.max(map.getZoom(), DETAIL_ZOOM));
  document.getElementById("camera-title").textContent = `#${camera.id} ${camera.name}`;
  document.getElementById("camera-meta").textContent =
    `${camera.kind} · heading ${camera.heading_deg}° · ${camera.fov_deg}° over ${camera.range_m} m · ${camera.status}` +
    (camera.status_detail ? ` (${camera.status_detail})` : "");
  document.getElementById("camera-actions").hidden = false;
  document.getElementById("camera-share").hidden = !camera.streams || !can("shares.send");
  document.getElementById("live-box").hidden = !(camera.streams && can("video.live"));
  document.getElementById("playback-box").hidden = !(camera.streams && can("video.playback"));
  document.getElementById("export-box").hidden = !(camera.streams && can("video.export"));
  if (camera.streams && can("video.export")) {
    fillPurposes(document.getElementById("export-form").elements.purpose_category).catch((error) => {
      document.getElementById("export-result").textContent = `Purpose categories could not be loaded: ${error.message}`;
    });
  }
  if (camera.streams && can("video.playback")) {
    const form = document.getElementById("playback-form");
    const now = new Date();
    form.start.value = localInput(new Date(now.getTime() - 5 * 60 * 1000));
    form.end.value = localInput(now);
  }
  if (camera.streams && can("video.live")) startLive(camera);
}

let liveGeneration = 0;  // a newer selection wins over a live start still loading its module

async function startLive(camera) {
  const state = document.getElementById("live-state");
  const generation = ++liveGeneration;
  try {
    const { playLive } = await import("/static/live-player.js");
    if (generation !== liveGeneration) return;
    const player = playLive(document.getElementById("live-video"), liveUrl(camera.id), {
      onStatus: (status) => {
        state.textContent = typeof status === "string" ? status : [status.state, status.detail].filter(Boolean).join(": ");
      },
    });
    stopLive = () => player.close();
  } catch (error) {
    state.textContent = "Live view is not available here.";
  }
}

document.getElementById("camera-title").addEventListener("dragstart", (event) => {
  if (!selected) { event.preventDefault(); return; }
  event.dataTransfer.setData(DRAG_TYPE, String(selected.id));
});
document.getElementById("camera-to-wall").addEventListener("click", () => {
  if (selected) request("dock", { cameraIds: [selected.id], focus: true });
});
document.getElementById("camera-share").addEventListener("click", () => {
  if (selected) request("share", { cameraId: selected.id });
});

document.getElementById("playback-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const start = isoFromLocal(form.start.value), end = isoFromLocal(form.end.value);
  const query = new URLSearchParams({ start, end });
  const spans = document.getElementById("spans");
  try {
    const body = await api(`/api/v1/cameras/${selected.id}/recordings?${query}`);
    spans.textContent = `${body.segments} segments recorded; ${body.spans.length} span(s), ${body.gaps.length} gap(s).`;
    if (body.spans.length) {
      const video = document.getElementById("playback-video");
      video.src = `/api/v1/cameras/${selected.id}/playback?${query}`;
      video.play().catch(() => {});
    }
  } catch (error) {
    spans.textContent = error.message;
  }
});

document.getElementById("export-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const range = document.getElementById("playback-form");
  const result = document.getElementById("export-result");
  result.textContent = "Exporting…";
  try {
    const body = await api(`/api/v1/cameras/${selected.id}/exports`, { method: "POST", body: {
      start: isoFromLocal(range.start.value), end: isoFromLocal(range.end.value),
      case_number: event.target.case_number.value, purpose: event.target.purpose.value,
      purpose_category: event.target.purpose_category.value || null } });
    const report = await api(`/api/v1/exports/${body.id}/verify`).catch(() => ({ ok: false, problems: ["could not verify"] }));
    result.textContent = `Export ${body.id} for case ${body.case_number}: ${body.path} — ` +
      (report.ok ? `verified intact (${report.files_checked} file(s), fingerprint ${body.fingerprint.slice(0, 16)}…)`
        : `NOT intact: ${report.problems.join("; ")}`);
  } catch (error) {
    result.textContent = error.message;
  }
});

// --- the camera list: filter, pages, drag onto the wall ---
let listPage = 0;
function drawCameraList() {
  const filter = document.getElementById("camera-filter").value.trim().toLowerCase();
  const matching = [...cameras.values()].filter((camera) => !filter ||
    `${camera.id} ${camera.name} ${camera.kind} ${camera.status}`.toLowerCase().includes(filter));
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  listPage = Math.min(listPage, pages - 1);
  const list = document.getElementById("camera-list");
  list.replaceChildren(...matching.slice(listPage * PAGE_SIZE, (listPage + 1) * PAGE_SIZE).map((camera) =>
    element("li", { draggable: "true", "data-list-camera-id": camera.id, class: `cam-${camera.status}`,
      title: "Click to select, drag onto the wall",
      ondragstart: (event) => event.dataTransfer.setData(DRAG_TYPE, String(camera.id)),
      onclick: () => select(camera.id, { pan: true }) },
    `#${camera.id} ${camera.name}`, element("small", { text: ` ${camera.kind} · ${camera.status}` }))));
  document.getElementById("camera-count").textContent = `(${cameras.size} in your scope)`;
  document.getElementById("camera-page").textContent = `page ${listPage + 1} of ${pages} · ${matching.length} shown`;
}
document.getElementById("camera-filter").addEventListener("input", () => { listPage = 0; drawCameraList(); });
document.getElementById("camera-prev").addEventListener("click", () => { listPage = Math.max(0, listPage - 1); drawCameraList(); });
document.getElementById("camera-next").addEventListener("click", () => { listPage += 1; drawCameraList(); });

function drawWorkingCount() {
  const streaming = [...cameras.values()].filter((camera) => camera.streams);
  document.getElementById("cameras-working").textContent =
    `cameras working: ${streaming.filter((camera) => camera.status === "recording").length} / ${streaming.length}`;
}

// --- incidents, plate hits, drones and field units on the map ---
const incidentMarkers = new Map();
on("incident", (incident) => {
  incidentMarkers.get(incident.id)?.remove();
  incidentMarkers.delete(incident.id);
  if (incident.status === "closed") return;
  const icon = L.divIcon({ className: "incident-icon", iconSize: [22, 22],
    html: `<span data-incident-id="${incident.id}" class="p${Math.min(incident.priority, 4)}">P${incident.priority}</span>` });
  const marker = L.marker([incident.latitude, incident.longitude], { icon, zIndexOffset: 1000 })
    .bindTooltip(incident.title).on("click", () => request("open-incident", { id: incident.id }));
  marker.addTo(incidentLayer);
  incidentMarkers.set(incident.id, marker);
});
on("show-on-map", ({ latitude, longitude }) => map.setView([latitude, longitude], Math.max(map.getZoom(), DETAIL_ZOOM)));
on("select-camera", ({ cameraId, pan }) => select(cameraId, { pan }));

const hits = [];
on("plate-hit", (hit) => {
  const camera = cameras.get(hit.camera_id);
  if (!camera) return;
  const marker = L.circleMarker([camera.latitude, camera.longitude], { radius: 11, color: PRIORITY_COLOURS[hit.priority] || "#ff4d4f",
    weight: 3, fill: false, className: "hit-ring" }).bindTooltip(`${hit.plate} · ${hit.hotlist || "hotlist"} · ${camera.name}`);
  marker.addTo(hitLayer);
  hits.push(marker);
  while (hits.length > 100) hits.shift().remove();
});

const movers = new Map(); // "drone:7" / "unit:1A12" -> marker
function moveMover(kind, id, data) {
  if (typeof data.latitude !== "number" || typeof data.longitude !== "number") return;
  const key = `${kind}:${id}`;
  let marker = movers.get(key);
  if (!marker) {
    marker = L.circleMarker([data.latitude, data.longitude], { radius: 6, color: kind === "drone" ? "#b37feb" : "#36cfc9", fillOpacity: 1 })
      .bindTooltip(`${kind} ${id}`).addTo(kind === "drone" ? droneLayer : unitLayer);
    movers.set(key, marker);
  }
  marker.setLatLng([data.latitude, data.longitude]);
}

document.addEventListener("rtcc-event", (event) => {
  const { type, data = {} } = event.detail;
  if (type === "camera.status" && cameras.has(data.camera_id)) {
    const camera = cameras.get(data.camera_id);
    camera.status = data.status;
    camera.status_detail = data.detail;
    const drawn = drawnCameras.get(camera.id);
    if (drawn) { drawn.cone.setStyle({ color: colour(camera) }); drawn.dot.setStyle({ color: colour(camera) }); }
    drawWorkingCount();
  } else if (type.startsWith("drone.")) {
    moveMover("drone", data.drone_id ?? data.id, data);
  } else if (type.startsWith("unit.")) {
    moveMover("unit", data.unit_id ?? data.id, data);
  }
});

async function main() {
  const body = await api("/api/v1/cameras/map").catch(() => ({ fields: [], cameras: [] }));
  for (const row of body.cameras) {
    const camera = Object.fromEntries(body.fields.map((name, index) => [name, row[index]]));
    cameras.set(camera.id, camera);
  }
  // The view first: Leaflet creates a layer's elements only once the map has one.
  const all = [...cameras.values()].map((camera) => [camera.latitude, camera.longitude]);
  if (all.length) map.fitBounds(all, { padding: [20, 20] }); else map.setView([34.09, -118.36], 15);
  drawCameras();
  // First paint of every camera (clustered or not): the figure bench/map_first_paint.py reads.
  document.body.dataset.mapPaintMs = String(Math.round(performance.now()));
  map.on("moveend", drawCameras);
  drawCameraList();
  drawWorkingCount();
  request("cameras-loaded", { count: cameras.size });
  await drawBasemap();
}

main();
