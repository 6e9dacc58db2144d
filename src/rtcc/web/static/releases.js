// Public-records releases: request, draw boxes on a frame (frame pixels), render, review, approve or reject.
const root = document.getElementById("releases");
const csrf = root.dataset.csrf;
const canApprove = root.dataset.canApprove === "yes";
const message = document.getElementById("release-message");
let current = null;  // the release shown in the detail panel
let drawn = null;  // {x, y, width, height} in frame pixels
const canvas = document.getElementById("frame-canvas");
const frameImage = new Image();

async function api(path, { method = "GET", body } = {}) {
  const headers = { "x-csrf-token": csrf };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error((data && data.message) || `${response.status} ${response.statusText}`);
  return data;
}

const say = (text) => { message.textContent = text; };
const utc = (value) => (value ? new Date(value + "Z").toISOString() : undefined);

async function refresh() {
  const rows = document.getElementById("release-rows");
  rows.replaceChildren();
  for (const release of await api("/api/v1/releases")) {
    const row = rows.insertRow();
    for (const value of [release.id, release.records_request_number, release.requester, release.status,
                         release.requested_by, release.manual_boxes.length]) row.insertCell().textContent = value;
    if (release.render_error) row.cells[3].title = release.render_error;  // why it failed or was interrupted
    const open = document.createElement("button");
    open.textContent = "Open";
    open.addEventListener("click", () => show(release.id));
    row.insertCell().append(open);
  }
}

async function show(id, polled = false) {
  current = await api(`/api/v1/releases/${id}`);
  document.getElementById("release-detail").hidden = false;
  document.getElementById("detail-id").textContent = current.id;
  document.getElementById("detail-status").textContent = current.render_error
    ? `${current.status} (${current.render_error})` : current.status;
  document.getElementById("detail-original").textContent = current.original_sha256;
  document.getElementById("detail-copy").textContent = current.release_sha256 || "not rendered";
  const r = current.redactions;
  document.getElementById("detail-redactions").textContent = r
    ? `${r.frames} frames: faces blurred on ${r.faces.frames}, plates on ${r.plates.frames}, ${r.manual.length} drawn box(es).` : "";
  const download = document.getElementById("download");
  download.hidden = current.status !== "approved";
  download.href = `/api/v1/releases/${id}/copy`;
  if (canApprove && ["rendered", "approved", "rejected"].includes(current.status)) {
    document.getElementById("review-video").src = `/api/v1/releases/${id}/review`;
  }
  if (current.status === "rendering") setTimeout(() => show(id, true), 2000);
  else if (polled) await refresh();  // the render ended: the list shows its new status
}

function paint() {
  const context = canvas.getContext("2d");
  context.drawImage(frameImage, 0, 0);
  if (drawn) {
    context.strokeStyle = "#ff2d55";
    context.lineWidth = 3;
    context.strokeRect(drawn.x, drawn.y, drawn.width, drawn.height);
  }
}

document.getElementById("frame-load").addEventListener("click", () => {
  const index = Number(document.getElementById("frame-index").value || 0);
  frameImage.onload = () => { canvas.width = frameImage.naturalWidth; canvas.height = frameImage.naturalHeight; drawn = null; paint(); };
  frameImage.onerror = () => say("That frame could not be shown.");
  frameImage.src = `/api/v1/releases/${current.id}/frame?index=${index}`;
});

let start = null;
const framePoint = (event) => {
  const rect = canvas.getBoundingClientRect();
  return [Math.round((event.clientX - rect.left) * canvas.width / rect.width),
          Math.round((event.clientY - rect.top) * canvas.height / rect.height)];
};
canvas.addEventListener("pointerdown", (event) => { start = framePoint(event); });
canvas.addEventListener("pointermove", (event) => {
  if (!start) return;
  const [x, y] = framePoint(event);
  drawn = { x: Math.min(x, start[0]), y: Math.min(y, start[1]), width: Math.abs(x - start[0]), height: Math.abs(y - start[1]) };
  paint();
});
canvas.addEventListener("pointerup", () => { start = null; document.getElementById("box-add").disabled = !drawn; });

document.getElementById("box-add").addEventListener("click", async () => {
  const last = document.getElementById("frame-last").value;
  try {
    await api(`/api/v1/releases/${current.id}/boxes`, { method: "POST", body: {
      frame: Number(document.getElementById("frame-index").value || 0), ...drawn,
      last_frame: last === "" ? null : Number(last), note: document.getElementById("box-note").value || null } });
    say("Box added: render the copy again.");
    await show(current.id); await refresh();
  } catch (error) { say(error.message); }
});

document.getElementById("render").addEventListener("click", async () => {
  try { await api(`/api/v1/releases/${current.id}/render`, { method: "POST" }); say("Rendering…"); await show(current.id); await refresh(); }
  catch (error) { say(error.message); }
});

for (const [id, approve] of [["approve", true], ["reject", false]]) {
  const button = document.getElementById(id);
  if (!button) continue;
  button.addEventListener("click", async () => {
    try {
      await api(`/api/v1/releases/${current.id}/decision`, { method: "POST",
        body: { approve, note: document.getElementById("decision-note").value } });
      await show(current.id); await refresh();
    } catch (error) { say(error.message); }
  });
}

document.getElementById("release-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const exportId = form.get("export_id");
  const body = { records_request_number: form.get("records_request_number"), requester: form.get("requester"),
                 purpose: form.get("purpose") };
  if (exportId) body.export_id = Number(exportId);
  else Object.assign(body, { camera_id: Number(form.get("camera_id")), start: utc(form.get("start")), end: utc(form.get("end")) });
  try { const created = await api("/api/v1/releases", { method: "POST", body }); say(`Release ${created.id} requested.`); await refresh(); await show(created.id); }
  catch (error) { say(error.message); }
});

refresh().catch((error) => say(error.message));
