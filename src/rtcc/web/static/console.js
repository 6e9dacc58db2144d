// Live event feed: one WebSocket, newest events on top, at most 200 kept on screen.
const list = document.getElementById("events");
const state = document.getElementById("feed-state");
const MAX_ITEMS = 200;

function show(event) {
  const item = document.createElement("li");
  const time = new Date(event.occurred_at).toISOString().slice(11, 19);
  const data = event.data || {};
  const who = data.username ? ` ${data.username}` : "";
  const what = data.action ? ` ${data.action} (${data.outcome})` : "";
  item.textContent = `${time}Z ${event.type}${who}${what}`;
  list.prepend(item);
  while (list.children.length > MAX_ITEMS) list.lastChild.remove();
}

function connect(delay) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/events`);
  socket.onopen = () => { state.textContent = "live feed: connected"; state.className = "pill ok"; delay = 1000; };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "hello") return;
    show(event);
    document.dispatchEvent(new CustomEvent("rtcc-event", { detail: event }));
  };
  socket.onclose = (closed) => {
    state.textContent = "live feed: disconnected"; state.className = "pill bad";
    if (closed.code === 4401) { location.href = "/sign-in?notice=Your%20session%20has%20ended."; return; }
    setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
  };
}

if (list) connect(1000);
