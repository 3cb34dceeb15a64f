// The console's Socket.IO connection to /staff: WebSocket first with polling as fallback,
// reconnecting by itself (1–10 s), a banner while it is away, and a refused token ends the session.

import { io } from "/vendor/socket.io.esm.min.js";
import { api, state } from "/static/console/state.js";
import { setBanner } from "/static/console/cues.js";

const AWAY = "Verbinding met de server kwijt. Opnieuw verbinden…";

// Connects and routes each server event to `handlers[event]`; `onLost` runs when the connection
// drops, `onRefused` when the server no longer accepts the token.
export function connect(handlers, { onLost, onRefused }) {
  const socket = io("/staff", {
    path: "/socket.io/",
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    auth: (cb) => cb({ token: api.session.token }),
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
  });
  state.socket = socket;

  socket.on("connect", () => setBanner(""));
  socket.on("disconnect", (reason) => {
    if (state.socket !== socket) return;
    onLost();
    setBanner(AWAY);
    // After a disconnect by the server Socket.IO does not reconnect by itself.
    if (reason === "io server disconnect") setTimeout(() => state.socket === socket && socket.connect(), 2000);
  });
  socket.on("connect_error", (err) => {
    if (state.socket !== socket) return;
    if (err?.data?.code === "unauthorized" || err?.data?.code === "forbidden") {
      onRefused();
      return;
    }
    setBanner(AWAY);
    if (!socket.active) setTimeout(() => state.socket === socket && socket.connect(), 3000);
  });
  for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
  return socket;
}

export function disconnect() {
  state.socket?.disconnect();
  state.socket = null;
}
