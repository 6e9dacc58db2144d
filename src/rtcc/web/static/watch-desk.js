// The watch desk: cameras on the map with their view cones; pick one to watch live, play back and export.
const desk = document.getElementById("desk");
const csrf = desk.dataset.csrf;
const canPlay = Boolean(desk.dataset.canPlay);
const canLive = Boolean(desk.dataset.canLive);
const canExport = Boolean(desk.dataset.canExport);
const STATUS_COLOURS = { recording: "#2ea043", connecting: "#d4a72c", offline: "#d1242f", stale: "#d1242f" };
const layers = new Map();
let selected = null;
let stopLive = null;

const map = L.map("map", { zoomControl: true, attributionControl: false });

async function drawBasemap() {
  if (desk.dataset.tiles) {
    L.tileLayer(desk.dataset.tiles, { maxZoom: 20 }).addTo(map);
    return;
  }
  const response = await fetch("/console/basemap.geojson");
  if (!response.ok) return;
  L.geoJSON(await response.json(), { style: { color: "#5b6b7b", weight: 3 } })
    .bindTooltip((layer) => layer.feature.properties.name).addTo(map);
}

function colour(camera) {
  return STATUS_COLOURS[camera.status] || "#8b9bab";
}

function drawCamera(camera) {
  const cone = L.polygon(camera.view_cone.map(([lon, lat]) => [lat, lon]),
    { color: colour(camera), weight: 1, fillOpacity: 0.25 });
  const dot = L.circleMarker([camera.latitude, camera.longitude],
    { radius: 5, color: colour(camera), fillOpacity: 1 }).bindTooltip(camera.name);
  const group = L.featureGroup([cone, dot]).addTo(map);
  group.on("click", () => select(camera));
  dot.getElement()?.setAttribute("data-camera-id", camera.id);  // for keyboard-less tests and tooling
  layers.set(camera.id, { camera, cone, dot });
}

function isoFromLocal(value) {
  return new Date(value).toISOString();
}

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

async function select(camera) {
  selected = camera;
  if (stopLive) { stopLive(); stopLive = null; }
  document.getElementById("camera-title").textContent = `#${camera.id} ${camera.name}`;
  document.getElementById("camera-meta").textContent =
    `${camera.kind} · heading ${camera.heading_deg}° · ${camera.fov_deg}° over ${camera.range_m} m · ${camera.status}` +
    (camera.status_detail ? ` (${camera.status_detail})` : "");
  const streams = Boolean(camera.main_stream_url) && camera.kind !== "private_registered";
  document.getElementById("live-box").hidden = !(streams && canLive);
  document.getElementById("playback-box").hidden = !(streams && canPlay);
  document.getElementById("export-box").hidden = !(streams && canExport);
  if (streams && canPlay) {
    const form = document.getElementById("playback-form");
    const now = new Date();
    form.start.value = localInput(new Date(now.getTime() - 5 * 60 * 1000));
    form.end.value = localInput(now);
  }
  if (streams && canLive) startLive(camera);
}

async function startLive(camera) {
  const state = document.getElementById("live-state");
  try {
    const { playLive } = await import("/static/live-player.js");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const player = playLive(document.getElementById("live-video"), `${scheme}://${location.host}/api/v1/cameras/${camera.id}/live`,
      { onStatus: (status) => {
        state.textContent = typeof status === "string" ? status
          : [status.state, status.detail].filter(Boolean).join(": ");
      } });
    stopLive = () => player.close();
  } catch (error) {
    state.textContent = "Live view is not available here.";
  }
}

document.getElementById("playback-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const start = isoFromLocal(form.start.value), end = isoFromLocal(form.end.value);
  const query = new URLSearchParams({ start, end });
  const spans = document.getElementById("spans");
  const response = await fetch(`/api/v1/cameras/${selected.id}/recordings?${query}`);
  const body = await response.json();
  if (!response.ok) { spans.textContent = body.message; return; }
  spans.textContent = `${body.segments} segments recorded; ${body.spans.length} span(s), ${body.gaps.length} gap(s).`;
  if (body.spans.length) {
    const video = document.getElementById("playback-video");
    video.src = `/api/v1/cameras/${selected.id}/playback?${query}`;
    video.play().catch(() => {});
  }
});

document.getElementById("export-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const range = document.getElementById("playback-form");
  const result = document.getElementById("export-result");
  result.textContent = "Exporting…";
  const response = await fetch(`/api/v1/cameras/${selected.id}/exports`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify({ start: isoFromLocal(range.start.value), end: isoFromLocal(range.end.value),
      case_number: event.target.case_number.value, purpose: event.target.purpose.value }),
  });
  const body = await response.json();
  if (!response.ok) { result.textContent = body.message; return; }
  const check = await fetch(`/api/v1/exports/${body.id}/verify`);
  const report = check.ok ? await check.json() : { ok: false, problems: ["could not verify"] };
  result.textContent = `Export ${body.id} for case ${body.case_number}: ${body.path} — ` +
    (report.ok ? `verified intact (${report.files_checked} file(s), fingerprint ${body.fingerprint.slice(0, 16)}…)`
               : `NOT intact: ${report.problems.join("; ")}`);
});

async function main() {
  const response = await fetch("/api/v1/cameras");
  const cameras = response.ok ? await response.json() : [];
  // The view first: Leaflet adds layers (and creates their elements) only once the map has one.
  const all = cameras.map((c) => [c.latitude, c.longitude]);
  if (all.length) map.fitBounds(all, { padding: [20, 20] }); else map.setView([34.09, -118.36], 15);
  await drawBasemap();
  cameras.forEach(drawCamera);
  document.addEventListener("rtcc-event", (event) => {
    const data = event.detail.data || {};
    const entry = layers.get(data.camera_id);
    if (event.detail.type === "camera.status" && entry) {
      entry.camera.status = data.status;
      entry.camera.status_detail = data.detail;
      entry.cone.setStyle({ color: colour(entry.camera) });
      entry.dot.setStyle({ color: colour(entry.camera) });
    }
  });
}

main();
