// The connection to /chat: connecting and reconnecting, the server's events, `start` and
// `resume`.

import { io } from "/vendor/socket.io.esm.min.js";
import { request, show } from "/static/shared/dom.js";
import {
  addServerMessage, cueUnread, flushPending, showRedacted, systemNote,
} from "./messages.js";
import {
  ended, resetConversation, setBanner, setPosition, setStatus, showRefused,
} from "./screens.js";
import { inConversation, saveToken, state, ui } from "./state.js";

export function connect() {
  if (!state.socket) {
    state.socket = io("/chat", {
      path: "/socket.io/",
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      autoConnect: false,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    wire(state.socket);
  }
  if (!state.socket.connected) state.socket.connect();
}

export function scheduleReconnect() {
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(() => {
    if (state.socket && !state.socket.connected && inConversation()) state.socket.connect();
  }, state.retryDelay);
  state.retryDelay = Math.min(state.retryDelay * 2, 15000);
}

function wire(socket) {
  socket.on("connect", async () => {
    state.retryDelay = 1000;
    setBanner("");
    if (state.token) await resume();
    else if (state.startPayload) await start();
  });

  socket.on("disconnect", (reason) => {
    state.typingSent = false;
    if (!inConversation()) return;
    setBanner("De verbinding is even weg. We proberen het opnieuw…");
    for (const item of state.pending.values()) setMeta(item.node, "Wacht op verbinding…");
    // The client reconnects by itself, except when the server closed the connection.
    if (reason === "io server disconnect") scheduleReconnect();
  });

  socket.on("connect_error", (err) => {
    const data = err?.data;
    if (data && (data.code === "timeout" || data.code === "blocked")) {
      showRefused(data);
      return;
    }
    if (state.status === "connecting" && !state.token) {
      ui.startError.textContent = "Het lukt nu niet om te verbinden. We blijven het proberen…";
      show(ui.startError, true);
    } else if (inConversation()) {
      setBanner("De verbinding is even weg. We proberen het opnieuw…");
    }
    if (!socket.active) scheduleReconnect();
  });

  socket.on("queue", (data) => {
    if (state.status === "waiting") setPosition(data?.position);
  });

  socket.on("paired", (data) => {
    state.volunteer = data?.volunteer || "een vrijwilliger";
    setStatus("active");
    systemNote(`${state.volunteer} is er nu voor je. Vertel maar wat je bezighoudt.`);
    cueUnread();
    ui.text.focus();
  });

  socket.on("requeued", (data) => {
    state.volunteer = null;
    setStatus("waiting");
    setPosition(data?.position ?? 1);
    systemNote("De vrijwilliger is weggevallen. Je bent als eerste aan de beurt bij de volgende.");
  });

  socket.on("message", (msg, ack) => {
    addServerMessage(msg);
    if (typeof ack === "function") ack();
  });

  socket.on("typing", (data) => {
    ui.typing.textContent = data?.typing ? `${state.volunteer || "De vrijwilliger"} is aan het typen…` : "";
  });

  socket.on("redacted", showRedacted);

  socket.on("ended", (data) => ended(data?.reason, data?.reference));
}

async function start() {
  const ack = await request(state.socket, "start", state.startPayload);
  if (!ack.ok) {
    if (ack.error?.code === "already_started" && state.token) return resume();
    ui.startError.textContent = ack.error?.message || "Het lukte niet om een gesprek te starten. Probeer het nog eens.";
    show(ui.startError, true);
    setStatus("welcome");
    return;
  }
  state.startPayload = null;
  state.conversationId = ack.conversation_id;
  if (typeof ack.reference === "string") state.reference = ack.reference;
  saveToken(ack.resume_token);
  setStatus("waiting");
  setPosition(ack.position);
}

async function resume() {
  const payload = { resume_token: state.token };
  if (state.lastId) payload.after = state.lastId;
  const ack = await request(state.socket, "resume", payload);
  if (!ack.ok) {
    if (ack.error?.code === "no_answer") {
      state.socket.disconnect();
      scheduleReconnect();
      return;
    }
    // The conversation is gone (ended long ago or unknown): start afresh.
    saveToken(null);
    resetConversation();
    state.socket.disconnect();
    setStatus("welcome");
    if (ack.error?.code === "not_found") {
      ui.startError.textContent = "Je vorige gesprek is afgelopen. Je kunt een nieuw gesprek starten.";
      show(ui.startError, true);
    }
    return;
  }
  const freshPage = state.lastId === null && state.pending.size === 0 && !ui.log.childElementCount;
  state.conversationId = ack.conversation_id;
  if (ack.volunteer) state.volunteer = ack.volunteer;
  if (freshPage && ack.status === "active") {
    // After a reload the browser holds nothing of the conversation; the server sends only what
    // had not reached this device yet.
    systemNote("Je gesprek gaat verder. Eerdere berichten worden na het herladen niet opnieuw getoond; zo blijft er niets van je gesprek in je browser achter.");
  }
  for (const msg of ack.messages || []) addServerMessage(msg);
  for (const item of ack.redacted || []) showRedacted(item);
  if (ack.status === "ended") {
    ended(null, ack.reference);
    return;
  }
  if (ack.status === "waiting") {
    setStatus("waiting");
    setPosition(ack.position);
  } else {
    setStatus("active");
  }
  flushPending();
}
