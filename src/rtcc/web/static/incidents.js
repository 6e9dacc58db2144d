// Incidents: the open ones (newest first), each with its timeline, docked cameras and why they were chosen,
// footage-request candidates, and notes. New incidents dock their cameras on the wall.
import { api, can, camerasReady, element, mapView, on, request, timeOf, DRAG_TYPE } from "/static/console-state.js";

const list = document.getElementById("incident-list");
const detail = document.getElementById("incident-detail");
const incidents = new Map(); // id -> incident summary
let openId = null;

if (list) start();

function drawList() {
  const ordered = [...incidents.values()].filter((incident) => incident.status !== "closed")
    .sort((a, b) => a.priority - b.priority || String(b.opened_at).localeCompare(String(a.opened_at)));
  list.replaceChildren(...ordered.map((incident) => element("li", {
    class: `incident p${Math.min(incident.priority, 4)}${incident.id === openId ? " open" : ""}`,
    "data-testid": "incident-item", "data-incident-id": incident.id, onclick: () => openIncident(incident.id),
  }, element("span", { class: "badge", text: `P${incident.priority}` }), ` ${incident.title}`,
  element("small", { text: ` · ${timeOf(incident.opened_at)}` }))));
  document.getElementById("incident-count").textContent = `(${ordered.length} open)`;
}

function remember(incident) {
  const known = incidents.get(incident.id) || {};
  const merged = { ...known, ...incident };
  incidents.set(incident.id, merged);
  request("incident", merged);
  drawList();
}

function cameraRow(camera, incident) {
  return element("li", { draggable: "true", "data-testid": "docked-camera", "data-camera-id": camera.camera_id,
    ondragstart: (event) => event.dataTransfer.setData(DRAG_TYPE, String(camera.camera_id)),
    onclick: () => request("select-camera", { cameraId: camera.camera_id, pan: true }) },
  element("strong", { text: `${camera.rank}. ${camera.name}` }), element("small", { text: ` — ${camera.reason}` }));
}

async function requestFootage(incident, candidate, button) {
  const note = prompt(`Ask ${candidate.owner_name || "the owner"} for footage from ${candidate.name}. Note for the request:`,
    `Footage around ${timeOf(incident.opened_at)} for incident ${incident.id}`);
  if (note === null) return;
  try {
    await api(`/api/v1/incidents/${incident.id}/footage-requests`, { method: "POST", body: { camera_id: candidate.camera_id, note } });
    button.textContent = "Requested";
    button.disabled = true;
    openIncident(incident.id);
  } catch (error) { alert(error.message); }
}

function drawDetail(incident) {
  const cameraIds = incident.cameras.map((camera) => camera.camera_id);
  const parts = [
    element("h3", { text: `#${incident.id} ${incident.title}` }),
    element("p", { class: "hint", text: `${incident.type} · priority ${incident.priority} · ${incident.status}` +
      ` · opened ${timeOf(incident.opened_at)}${incident.call_id ? ` · call ${incident.call_id}` : ""}` }),
    element("p", { class: "row" },
      element("button", { type: "button", class: "small", "data-testid": "incident-dock", text: "Put its cameras on the wall",
        onclick: () => request("incident-cameras", { cameraIds, incidentId: incident.id, automatic: false }) }),
      element("button", { type: "button", class: "small secondary", text: "Show on map",
        onclick: () => request("show-on-map", incident) }),
      element("button", { type: "button", class: "small secondary", text: "Close panel", onclick: () => { openId = null; detail.hidden = true; drawList(); } })),
    element("h4", { text: `Docked cameras (${incident.cameras.length})` }),
    element("ol", { class: "docked" }, ...incident.cameras.map((camera) => cameraRow(camera, incident))),
  ];
  if (incident.footage_request_candidates.length) {
    parts.push(element("h4", { text: "Nearby private cameras (footage on request)" }),
      element("ul", { class: "candidates" }, ...incident.footage_request_candidates.map((candidate) => {
        const button = element("button", { type: "button", class: "small secondary", "data-testid": "request-footage", text: "Request footage" });
        button.addEventListener("click", () => requestFootage(incident, candidate, button));
        return element("li", {}, `${candidate.name} (${candidate.owner_name || "owner unknown"}), ${Math.round(candidate.distance_m)} m — ${candidate.reason} `,
          can("incidents.manage") ? button : null);
      })));
  }
  parts.push(element("h4", { text: "Timeline" }), element("ol", { class: "timeline", "data-testid": "timeline" },
    ...incident.timeline.map((entry) => element("li", { "data-kind": entry.kind },
      element("small", { text: `${timeOf(entry.at)} ${entry.username || ""} ` }), entry.summary))));
  if (can("incidents.manage")) {
    const form = element("form", { class: "row", "data-testid": "note-form" },
      element("label", {}, "Note ", element("input", { name: "text", required: true, maxlength: "2000" })),
      element("button", { type: "submit", text: "Add note" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        drawDetail(await api(`/api/v1/incidents/${incident.id}/notes`, { method: "POST", body: { text: form.elements.text.value } }));
      } catch (error) { alert(error.message); }
    });
    parts.push(form);
  }
  detail.replaceChildren(...parts);
  detail.hidden = false;
}

async function openIncident(id) {
  openId = id;
  drawList();
  try {
    const incident = await api(`/api/v1/incidents/${id}`);
    if (openId === id) drawDetail(incident);
    return incident;
  } catch (error) {
    detail.replaceChildren(element("p", { class: "error", text: error.message }));
    detail.hidden = false;
    return null;
  }
}

/** The incident whose cameras are on the wall: what a share is tied to. */
export function currentIncidentId() {
  return openId;
}

async function openByHand(event) {
  event.preventDefault();
  const form = event.target, result = document.getElementById("new-incident-result");
  const where = mapView.centre();
  if (!where) { result.textContent = "The map is not ready yet."; return; }
  try {
    const incident = await api("/api/v1/incidents", { method: "POST", body: { title: form.title.value, type: form.type.value,
      priority: Number(form.priority.value), ...where } });
    result.textContent = `Incident ${incident.id} opened with ${incident.cameras.length} camera(s) docked.`;
    form.reset();
    openIncident(incident.id);
  } catch (error) { result.textContent = error.message; }
}

async function start() {
  on("open-incident", ({ id }) => openIncident(id));
  document.getElementById("new-incident-form")?.addEventListener("submit", openByHand);
  document.addEventListener("rtcc-event", (event) => {
    const { type, data = {} } = event.detail;
    if (type === "incident.opened") {
      remember({ id: data.incident_id, title: data.title, type: data.type, priority: data.priority, latitude: data.latitude,
        longitude: data.longitude, status: data.status, opened_at: event.occurred_at });
      request("incident-cameras", { cameraIds: data.cameras || [], incidentId: data.incident_id, automatic: true });
      if (openId === null) openIncident(data.incident_id);
    } else if (type === "incident.updated") {
      remember({ id: data.incident_id, title: data.title, type: data.type, priority: data.priority, latitude: data.latitude,
        longitude: data.longitude, status: data.status });
      if (data.status === "closed" && openId === data.incident_id) { openId = null; detail.hidden = true; }
      else if (openId === data.incident_id) openIncident(openId);
    }
  });
  await camerasReady;
  for (const incident of await api("/api/v1/incidents").catch(() => [])) remember(incident);
  await showMostUrgentOnAnEmptyWall();
}

/** A console opened mid-shift: the most urgent open incident (then the newest) docks its cameras, as a new one would. */
async function showMostUrgentOnAnEmptyWall() {
  const { wallIsEmpty } = await import("/static/wall.js");
  const open = [...incidents.values()].filter((incident) => incident.status !== "closed")
    .sort((a, b) => a.priority - b.priority || String(b.opened_at).localeCompare(String(a.opened_at)));
  if (!open.length || !wallIsEmpty() || openId !== null) return;
  const incident = await openIncident(open[0].id);
  if (incident && wallIsEmpty()) {
    request("incident-cameras", { cameraIds: incident.cameras.map((camera) => camera.camera_id), incidentId: incident.id, automatic: true });
  }
}
