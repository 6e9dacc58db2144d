// Share to the field: a snapshot, a clip or a time-limited live link for one named field officer.
// The server makes a single-use, expiring link bound to that officer; every open is audited; it can be revoked.
import { api, cameras, element, on } from "/static/console-state.js";
import { currentIncidentId } from "/static/incidents.js";
import { fillPurposes } from "/static/purposes.js";

const dialog = document.getElementById("share-dialog");
const form = document.getElementById("share-form");
const result = document.getElementById("share-result");
let cameraId = null;

on("share", ({ cameraId: id }) => {
  cameraId = id;
  const camera = cameras.get(id);
  document.getElementById("share-camera").textContent = camera ? `#${camera.id} ${camera.name}` : `camera ${id}`;
  result.replaceChildren();
  dialog.showModal();
  fillPurposes(form.elements.purpose_category).catch((error) => { result.textContent = `Purpose categories could not be loaded: ${error.message}`; });
});

document.getElementById("share-cancel").addEventListener("click", () => dialog.close());

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = Object.fromEntries(new FormData(form));
  const body = { kind: values.kind, camera_id: cameraId, recipient: values.recipient.trim(), purpose: values.purpose,
    case_number: values.case_number, message: values.message || null, minutes: Number(values.minutes) || null,
    purpose_category: values.purpose_category || null, incident_id: currentIncidentId() };
  if (values.kind === "clip") {
    const end = new Date(), start = new Date(end.getTime() - (Number(values.clip_minutes) || 2) * 60000);
    Object.assign(body, { start: start.toISOString(), end: end.toISOString() });
  }
  result.textContent = "Sending…";
  try {
    const share = await api("/api/v1/shares", { method: "POST", body });
    const link = new URL(share.link, location.origin).href;
    const revoke = element("button", { type: "button", class: "small secondary", "data-testid": "share-revoke", text: "Revoke", onclick: async () => {
      try {
        await api(`/api/v1/shares/${share.id}/revoke`, { method: "POST" });
        result.replaceChildren(element("p", { text: `Share ${share.id} revoked: the link no longer opens.` }));
      } catch (error) { result.textContent = error.message; }
    } });
    result.replaceChildren(
      element("p", { text: `Sent to ${share.recipient}; the link works once, for them only, until ${new Date(share.expires_at).toLocaleString()}.` }),
      element("input", { readonly: true, value: link, "data-testid": "share-link", onfocus: (e) => e.target.select() }),
      element("p", { class: "row" }, revoke));
  } catch (error) {
    result.textContent = error.message;
  }
});
