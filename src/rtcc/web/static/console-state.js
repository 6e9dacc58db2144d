// What every part of the watch floor shares: the caller's rights, the CSRF token, the cameras, and a fetch helper.
const desk = document.getElementById("desk");

export const csrf = desk.dataset.csrf;
export const username = desk.dataset.username;
const permissions = new Set((desk.dataset.permissions || "").split(" ").filter(Boolean));
export const can = (permission) => permissions.has(permission);

/** Cameras in scope by id: {id, name, kind, latitude, longitude, heading_deg, fov_deg, range_m, status, status_detail, streams}. */
export const cameras = new Map();

/** JSON to and from the API; throws an Error carrying the server's message. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { "x-csrf-token": csrf };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  // A signed-out session meets the sign-in page (HTML), not JSON: say so instead of failing to parse it.
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const data = text && isJson ? JSON.parse(text) : null;
  if (!response.ok || (text && !isJson)) {
    const error = new Error((data && data.message) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

/** Ask the other parts of the floor to do something (select a camera, dock cameras, share...). */
export function request(name, detail) {
  document.dispatchEvent(new CustomEvent(`rtcc-${name}`, { detail }));
}

export function on(name, handler) {
  document.addEventListener(`rtcc-${name}`, (event) => handler(event.detail));
}

export function liveUrl(cameraId) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api/v1/cameras/${cameraId}/live`;
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function timeOf(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

/** Cameras carried by a drag: from the map, the list, the camera panel, an incident or an alert. */
export const DRAG_TYPE = "application/x-rtcc-camera";

/** Resolves once the map has loaded the cameras in scope (names and positions for everything else). */
export const camerasReady = new Promise((resolve) => on("cameras-loaded", resolve));

/** The map's centre as {latitude, longitude}; the map sets the function once it exists. */
export const mapView = { centre: () => null };
