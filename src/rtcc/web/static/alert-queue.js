// The alert queue: plate hits, cameras going offline or being tampered with, drone events — live over the
// WebSocket, most urgent first. High-priority arrivals sound until someone acknowledges them.
import { api, can, cameras, camerasReady, element, request, timeOf } from "/static/console-state.js";

const list = document.getElementById("alert-queue");
const PLATE_STATUSES_SHOWN = ["new", "acknowledged", "actionable"];
const CAMERA_PROBLEMS = { offline: [3, "Camera offline"], stale: [3, "Camera stalled"], black: [2, "Camera picture black"],
  frozen: [2, "Camera picture frozen"], tamper_covered: [2, "Camera covered (tamper?)"], tamper_moved: [2, "Camera moved (tamper?)"] };
const WORKING = ["recording", "online"];
const SOUND_PRIORITY = 1;        // alerts this urgent (1 = most) sound
const SOUND_REPEAT_MS = 15000;   // ...again while nobody has acknowledged them
const DISPOSITIONS = ["confirmed", "misread", "vehicle_mismatch", "entry_inactive", "other"];
const items = new Map();         // key -> item
let soundOn = true;
let audio = null;
window.rtccAlertLatencies = [];  // ms from the event's publication to its rendering (bench/console_latency.py)

if (list) start();

function plateItem(alert) {
  return { key: `plate:${alert.alert_id}`, kind: "plate", alertId: alert.alert_id, readId: alert.read_id, status: alert.status || "new",
    priority: alert.priority ?? 1, createdAt: alert.created_at, cameraId: alert.camera_id, plate: alert.plate,
    matchedPlate: alert.matched_plate, method: alert.method, hotlist: alert.hotlist, reason: alert.reason, vehicle: alert.vehicle || {},
    repeats: alert.repeats || 0, acknowledged: Boolean(alert.status) && alert.status !== "new" };
}

// The alert carries its own priority and hotlist name: a field officer, who may not read hotlists, sees a P1 hit as P1.
function fromApi(alert) {
  return plateItem({ alert_id: alert.id, read_id: alert.read_id, status: alert.status, priority: alert.priority,
    created_at: alert.created_at, camera_id: alert.camera_id, plate: alert.plate, matched_plate: alert.entry.plate,
    method: alert.match_method, hotlist: alert.hotlist, reason: alert.entry.reason, vehicle: alert.entry, repeats: alert.repeats });
}

function beep() {
  document.body.dataset.lastBeep = String(Date.now());  // when the queue last sounded (tests read it)
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
    const oscillator = audio.createOscillator(), gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.6);
    document.body.dataset.audio = audio.state;
  } catch (error) {  // no audio device: the flashing item still shows
    document.body.dataset.audio = `unavailable: ${error.message}`;
  }
}

function cameraName(id) {
  const camera = cameras.get(id);
  return camera ? camera.name : id ? `camera ${id}` : "external reader";
}

async function acknowledge(item) {
  if (item.kind === "plate") {
    try {
      await api(`/api/v1/alpr/alerts/${item.alertId}/acknowledge`, { method: "POST" });
    } catch (error) { alert(error.message); return; }
  }
  item.acknowledged = true;
  if (item.status === "new") item.status = "acknowledged";
  draw();
}

function verifyForm(item) {
  const checks = [["crop_matches_plate", `The crop shows plate ${item.matchedPlate || item.plate}`],
    ["vehicle_matches", "The vehicle matches the description"], ["entry_still_active", "The entry is confirmed active at its source"]];
  const form = element("form", { class: "verify", "data-testid": "verify-form" },
    ...checks.map(([name, text]) => element("label", { class: "check" }, element("input", { type: "checkbox", name }), text)),
    element("button", { type: "submit", text: "Record verification" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(checks.map(([name]) => [name, form.elements[name].checked]));
    try {
      const updated = await api(`/api/v1/alpr/alerts/${item.alertId}/verify`, { method: "POST", body });
      item.status = updated.status;
      item.acknowledged = true;
      item.disposition = updated.disposition;
      draw();
    } catch (error) { alert(error.message); }
  });
  return form;
}

function dispositionForm(item) {
  const form = element("form", { class: "row", "data-testid": "disposition-form" },
    element("label", {}, "Outcome ", element("select", { name: "disposition" }, ...DISPOSITIONS.map((d) => element("option", { text: d })))),
    element("label", {}, "Note ", element("input", { name: "note" })),
    element("button", { type: "submit", text: "Close alert" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/v1/alpr/alerts/${item.alertId}/disposition`, { method: "POST",
        body: { disposition: form.elements.disposition.value, note: form.elements.note.value } });
      items.delete(item.key);
      draw();
    } catch (error) { alert(error.message); }
  });
  return form;
}

function render(item) {
  const node = element("li", { class: `queue-item p${Math.min(item.priority, 4)} ${item.acknowledged ? "acked" : "unacked"} status-${item.status}`,
    "data-testid": "queue-item", "data-key": item.key, "data-priority": item.priority, "data-alert-id": item.alertId,
    "data-status": item.status });
  const head = element("div", { class: "queue-head" }, element("span", { class: "badge", text: `P${item.priority}` }),
    element("strong", { text: item.title || (item.kind === "plate" ? `${item.plate}` : item.kind) }),
    element("small", { text: ` ${timeOf(item.createdAt)} · ${cameraName(item.cameraId)}` }));
  node.append(head);
  if (item.kind === "plate") {
    const vehicle = [item.vehicle.colour, item.vehicle.make, item.vehicle.model].filter(Boolean).join(" ") || "no description";
    node.append(element("p", { class: "queue-detail",
      text: `${item.reason || "hotlist hit"} · ${item.hotlist || "hotlist"} · ${item.method} match` +
        (item.method === "fuzzy" ? ` of ${item.matchedPlate}` : "") + ` · ${item.vehicle.state || ""} ${vehicle}` +
        (item.repeats ? ` · seen ${item.repeats + 1}×` : "") + ` · ${item.status}` }));
    if (item.readId) node.append(element("img", { class: "crop", alt: `crop of ${item.plate}`, loading: "lazy",
      src: `/api/v1/alpr/reads/${item.readId}/crop`, onerror: (event) => event.target.remove() }));
  } else if (item.detail) {
    node.append(element("p", { class: "queue-detail", text: item.detail }));
  }
  const actions = element("p", { class: "row" });
  if (!item.acknowledged) actions.append(element("button", { type: "button", class: "small", "data-testid": "ack", text: "Acknowledge", onclick: () => acknowledge(item) }));
  if (item.cameraId && cameras.has(item.cameraId)) {
    actions.append(element("button", { type: "button", class: "small secondary", "data-testid": "jump", text: "Jump to camera", onclick: () => {
      request("select-camera", { cameraId: item.cameraId, pan: true });
      request("dock", { cameraIds: [item.cameraId], focus: true });
    } }));
  }
  if (item.kind !== "plate") {
    actions.append(element("button", { type: "button", class: "small secondary", text: "Dismiss", onclick: () => { items.delete(item.key); draw(); } }));
  }
  node.append(actions);
  if (item.kind === "plate" && can("alerts.verify")) {
    if (item.status === "new" || item.status === "acknowledged") node.append(verifyForm(item));
    else if (item.status === "actionable") node.append(element("p", { class: "actionable", text: "Verified: actionable." }), dispositionForm(item));
  }
  return node;
}

function draw() {
  const ordered = [...items.values()].sort((a, b) => a.priority - b.priority || String(b.createdAt).localeCompare(String(a.createdAt)));
  list.replaceChildren(...ordered.map(render));
  document.getElementById("queue-empty").hidden = ordered.length > 0;
  const waiting = ordered.filter((item) => !item.acknowledged).length;
  document.getElementById("queue-count").textContent = `(${waiting} waiting, ${ordered.length} open)`;
}

function add(item, event) {
  const isNew = !items.has(item.key);
  items.set(item.key, item);
  draw();
  if (event) {
    const latency = Date.now() - Date.parse(event.occurred_at);
    window.rtccAlertLatencies.push(latency);
    list.querySelector(`[data-key="${item.key}"]`)?.setAttribute("data-latency-ms", String(latency));
  }
  if (isNew && soundOn && item.priority <= SOUND_PRIORITY && !item.acknowledged) beep();
}

function onEvent(event) {
  const { type, data = {} } = event;
  if (type === "plate.alert") {
    add(plateItem({ ...data, created_at: event.occurred_at }), event);
    request("plate-hit", data);
  } else if (type === "plate.alert_updated") {
    const item = items.get(`plate:${data.alert_id}`);
    if (!item) return;
    if (data.status === "closed") items.delete(item.key);
    else { item.status = data.status; item.acknowledged = data.status !== "new"; }
    draw();
  } else if (type === "camera.status") {
    const key = `camera:${data.camera_id}`;
    const problem = CAMERA_PROBLEMS[data.status];
    if (!problem) {  // working again: nothing left to do (a retry, "connecting", changes nothing)
      if (WORKING.includes(data.status) && items.delete(key)) draw();
      return;
    }
    const [priority, title] = problem;
    add({ key, kind: "camera", priority, title, detail: data.detail || "", createdAt: event.occurred_at,
      cameraId: data.camera_id, status: data.status, acknowledged: false }, event);
  } else if (type.startsWith("drone.")) {
    add({ key: `drone:${data.drone_id ?? event.id}`, kind: "drone", priority: data.priority ?? 2,
      title: data.title || type.replace("drone.", "Drone: "), detail: data.detail || "", createdAt: event.occurred_at,
      cameraId: data.camera_id, status: "new", acknowledged: false }, event);
  }
}

function soundIfWaiting() {
  if (soundOn && [...items.values()].some((item) => !item.acknowledged && item.priority <= SOUND_PRIORITY)) beep();
}

async function start() {
  document.addEventListener("rtcc-event", (event) => onEvent(event.detail));
  const sound = document.getElementById("sound-toggle");
  sound.addEventListener("click", () => { soundOn = !soundOn; sound.textContent = soundOn ? "Sound on" : "Sound off"; });
  setInterval(soundIfWaiting, SOUND_REPEAT_MS);
  await camerasReady;
  for (const status of PLATE_STATUSES_SHOWN) {
    for (const alert of await api(`/api/v1/alpr/alerts?status=${status}&limit=50`).catch(() => [])) {
      const item = fromApi(alert);
      if (!items.has(item.key)) items.set(item.key, item);
      request("plate-hit", { camera_id: alert.camera_id, plate: alert.plate, priority: item.priority, hotlist: item.hotlist });
    }
  }
  draw();
  soundIfWaiting();  // an urgent alert nobody has taken in hand sounds as the console opens, not a repeat later
}
