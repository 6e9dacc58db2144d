// A live field share: the console's live player on the link's own WebSocket (/field/<token>/live).
// The server closes the socket when the link expires or is revoked; the page then says so.
import { playLive } from "/static/live-player.js";

const video = document.getElementById("field-live");
const status = document.getElementById("field-live-status");
const ENDED = { expired: "The link has expired.", revoked: "The link was revoked by the sender." };

if (video) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let ended = false;
  let unplayable = false; // "unsupported" arrives just before its init message: keep it shown
  playLive(video, `${scheme}://${location.host}${video.dataset.wsPath}`, {
    onStatus(message) {
      if (message.type !== "status") {
        if ((message.type === "init" && !unplayable) || message.type === "snapshots") status.textContent = "Live";
        return;
      }
      unplayable = message.state === "unsupported";
      if (ENDED[message.state]) {
        ended = true;
        status.textContent = ENDED[message.state];
        video.removeAttribute("src");
        video.load();
      } else if (message.state === "closed") {
        if (ENDED[message.detail]) status.textContent = ENDED[message.detail];
        else if (!ended) status.textContent = "The live stream ended. Reload the page to try again.";
      } else {
        status.textContent = message.detail ? `${message.state}: ${message.detail}` : message.state;
      }
    },
  });
}
