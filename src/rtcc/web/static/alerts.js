// New plate alerts appear without a manual reload (the queue is short and server-rendered).
const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new WebSocket(`${scheme}://${location.host}/api/v1/events?types=plate.alert`);
socket.onmessage = (message) => {
  const event = JSON.parse(message.data);
  if (event.type === "plate.alert") location.reload();
};
