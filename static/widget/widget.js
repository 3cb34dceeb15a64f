// The chat widget for young people: rules → queue → chat → personal code.
// Only the resume token is kept, in sessionStorage; messages live in memory and are shown as text.

import { io } from "/vendor/socket.io.esm.min.js";
import { $, el, show, formatTime, formatDate, randomId, request } from "/static/shared/dom.js";

const TOKEN_KEY = "chatserver.resume";
const TITLE = document.title;

// sessionStorage when the browser allows it; inside another site's iframe with third-party
// storage blocked it throws, and then the token lives in memory only (a reload starts afresh).
const tokenStore = (() => {
  let memory = null;
  const storage = () => {
    try { return window.sessionStorage; } catch { return null; }
  };
  return {
    get() {
      try { return storage()?.getItem(TOKEN_KEY) ?? memory; } catch { return memory; }
    },
    set(value) {
      memory = value;
      try {
        if (value) storage()?.setItem(TOKEN_KEY, value);
        else storage()?.removeItem(TOKEN_KEY);
      } catch { /* memory only */ }
    },
  };
})();

const ui = {
  app: $("#app"),
  banner: $("#connection-banner"),
  screens: {
    welcome: $("#screen-welcome"),
    chat: $("#screen-chat"),
    ended: $("#screen-ended"),
    refused: $("#screen-refused"),
  },
  start: $("#start"),
  startError: $("#start-error"),
  age: $("#start-age"),
  topic: $("#start-topic"),
  chatTitle: $("#chat-title"),
  chatSub: $("#chat-sub"),
  waiting: $("#waiting"),
  position: $("#queue-position"),
  log: $("#log"),
  typing: $("#typing"),
  composer: $("#composer"),
  text: $("#text"),
  send: $("#send"),
  count: $("#count"),
  stop: $("#stop"),
  endedReason: $("#ended-reason"),
  referenceBox: $("#reference-box"),
  reference: $("#reference"),
  copyReference: $("#copy-reference"),
  copyDone: $("#copy-done"),
  again: $("#again"),
  refusedMessage: $("#refused-message"),
  refusedUntil: $("#refused-until"),
  quickExit: $("#quick-exit"),
};

const state = {
  socket: null,
  status: "welcome", // welcome | connecting | waiting | active | ended | refused
  token: tokenStore.get(),
  startPayload: null,
  conversationId: null,
  volunteer: null,
  lastId: null,
  seen: new Map(), // message id → element
  pending: new Map(), // client_id → {text, node, sending}
  unread: 0,
  typingSent: false,
  typingTimer: null,
  retryTimer: null,
  retryDelay: 1000,
  maxLength: 4000,
};

const ENDED_TEXT = {
  chatter: "Je hebt het gesprek gestopt. Goed dat je er was.",
  volunteer: "De vrijwilliger heeft het gesprek afgesloten. Bedankt voor je vertrouwen.",
  timeout: "Het gesprek is gestopt en je kunt een tijdje niet chatten. Later ben je weer welkom.",
  blocked: "Het gesprek is gestopt. Je kunt voorlopig niet meer chatten.",
};

// ---------------------------------------------------------------- screens

function setScreen(name) {
  ui.app.dataset.screen = name;
  for (const [key, node] of Object.entries(ui.screens)) show(node, key === name);
}

function setStatus(status) {
  state.status = status;
  if (status === "welcome" || status === "connecting") setScreen("welcome");
  if (status === "waiting" || status === "active") setScreen("chat");
  if (status === "ended") setScreen("ended");
  if (status === "refused") setScreen("refused");
  ui.start.disabled = status === "connecting";
  ui.start.textContent = status === "connecting" ? "Even verbinden…" : "Start een gesprek";
  if (status === "connecting") ui.start.setAttribute("aria-label", "Start een gesprek");
  const waiting = status === "waiting";
  show(ui.waiting, waiting);
  show(ui.log, !waiting);
  show(ui.composer, status === "active");
  ui.chatTitle.textContent = waiting
    ? "Even geduld"
    : state.volunteer ? `Je praat met ${state.volunteer}` : "Je gesprek";
  ui.chatSub.textContent = waiting ? "Je staat in de rij" : "Vrijwilliger van Even praten";
  if (status !== "active") ui.typing.textContent = "";
}

function setBanner(text) {
  ui.banner.textContent = text || "";
  show(ui.banner, Boolean(text));
}

function setPosition(position) {
  if (typeof position !== "number") return;
  ui.position.textContent = position <= 1
    ? "Jij bent de volgende!"
    : `Er zijn nog ${position - 1} ${position - 1 === 1 ? "persoon" : "mensen"} voor je. Je bent nummer ${position}.`;
}

function saveToken(token) {
  state.token = token;
  tokenStore.set(token);
}

function resetConversation() {
  state.conversationId = null;
  state.volunteer = null;
  state.lastId = null;
  state.seen.clear();
  state.pending.clear();
  ui.log.replaceChildren();
  ui.typing.textContent = "";
}

// ---------------------------------------------------------------- messages

function scrollToEnd() {
  ui.log.scrollTop = ui.log.scrollHeight;
}

function systemNote(text) {
  ui.log.append(el("p", { class: "system-note", text }));
  scrollToEnd();
}

function messageNode(own) {
  const bubble = el("div", { class: "msg__bubble" });
  const meta = el("div", { class: "msg__meta" });
  const who = el("span", { class: "visually-hidden", text: own ? "Jij: " : `${state.volunteer || "Vrijwilliger"}: ` });
  const node = el("div", { class: `msg ${own ? "msg--own" : "msg--other"}` }, who, bubble, meta);
  return node;
}

function setText(node, text, redacted) {
  node.querySelector(".msg__bubble").textContent = text;
  if (redacted && !node.querySelector(".msg__redacted")) {
    node.querySelector(".msg__meta").prepend(el("span", { class: "msg__redacted", text: "onherkenbaar gemaakt" }), " ");
  }
}

function setMeta(node, text) {
  const meta = node.querySelector(".msg__meta");
  const badge = meta.querySelector(".msg__redacted");
  meta.replaceChildren();
  if (badge) meta.append(badge, " ");
  meta.append(text);
}

// A message from the server (live, or from a resume): shown once, whatever its route.
function addServerMessage(msg) {
  if (!msg || typeof msg.id !== "string" || state.seen.has(msg.id)) return;
  const own = msg.from === "chatter";
  const node = messageNode(own);
  setText(node, String(msg.text ?? ""), false);
  setMeta(node, own ? `Verstuurd · ${formatTime(msg.ts)}` : formatTime(msg.ts));
  node.dataset.id = msg.id;
  state.seen.set(msg.id, node);
  state.lastId = msg.id;
  ui.log.append(node);
  // Messages still on their way stay below what the server already has.
  for (const item of state.pending.values()) ui.log.append(item.node);
  scrollToEnd();
  if (!own) {
    ui.typing.textContent = "";
    cueUnread();
  }
}

// A message redacted after it was shown (live, or while this device was away: from a resume).
function showRedacted(data) {
  const node = state.seen.get(data?.message_id);
  if (node) setText(node, String(data.text ?? ""), true);
}

function cueUnread() {
  if (!document.hidden) return;
  state.unread += 1;
  document.title = `(${state.unread}) Nieuw bericht – ${TITLE}`;
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    state.unread = 0;
    document.title = TITLE;
  }
});

function addOwnMessage(text) {
  const clientId = randomId();
  const node = messageNode(true);
  node.classList.add("msg--sending");
  setText(node, text, false);
  setMeta(node, "Versturen…");
  const item = { text, node, sending: false };
  state.pending.set(clientId, item);
  ui.log.append(node);
  scrollToEnd();
  sendPending(clientId);
}

async function sendPending(clientId) {
  const item = state.pending.get(clientId);
  if (!item || item.sending) return;
  item.node.classList.remove("msg--failed");
  item.node.classList.add("msg--sending");
  if (!state.socket?.connected || state.status !== "active") {
    setMeta(item.node, "Wacht op verbinding…");
    return; // flushed after the next resume
  }
  setMeta(item.node, "Versturen…");
  item.sending = true;
  const ack = await request(state.socket, "message", { text: item.text, client_id: clientId });
  item.sending = false;
  if (!state.pending.has(clientId)) return;
  if (ack.ok) {
    state.pending.delete(clientId);
    item.node.classList.remove("msg--sending");
    const existing = state.seen.get(ack.id);
    if (existing && existing !== item.node) {
      item.node.remove(); // the server had it already (resume delivered it): keep one
      return;
    }
    item.node.dataset.id = ack.id;
    state.seen.set(ack.id, item.node);
    setMeta(item.node, `Verstuurd · ${formatTime(ack.ts)}`);
    return;
  }
  if (!state.socket?.connected) {
    setMeta(item.node, "Wacht op verbinding…");
    return;
  }
  markFailed(clientId, item, failureText(ack.error));
}

function failureText(error) {
  switch (error?.code) {
    case "too_long": return `Niet verstuurd: je bericht is te lang (max. ${state.maxLength} tekens).`;
    case "rate_limited": return "Niet verstuurd: je stuurt erg snel. Wacht even.";
    case "empty": return "Niet verstuurd: je bericht is leeg.";
    case "not_in_conversation": return "Niet verstuurd: het gesprek loopt niet meer.";
    default: return "Niet verstuurd.";
  }
}

function markFailed(clientId, item, text) {
  item.node.classList.remove("msg--sending");
  item.node.classList.add("msg--failed");
  const retry = el("button", {
    type: "button",
    class: "msg__retry",
    text: "Opnieuw proberen",
    onclick: () => sendPending(clientId),
  });
  setMeta(item.node, text);
  item.node.querySelector(".msg__meta").append(" ", retry);
}

function flushPending() {
  for (const clientId of state.pending.keys()) sendPending(clientId);
}

// ---------------------------------------------------------------- the connection

function connect() {
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

function scheduleReconnect() {
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(() => {
    if (state.socket && !state.socket.connected && inConversation()) state.socket.connect();
  }, state.retryDelay);
  state.retryDelay = Math.min(state.retryDelay * 2, 15000);
}

function inConversation() {
  return state.status === "waiting" || state.status === "active" || state.status === "connecting";
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

function ended(reason, reference) {
  saveToken(null);
  setStatus("ended");
  setBanner("");
  ui.endedReason.textContent = ENDED_TEXT[reason] || "Bedankt voor je vertrouwen.";
  if (reference) {
    ui.reference.textContent = reference;
    show(ui.referenceBox, true);
  } else {
    show(ui.referenceBox, false);
  }
  state.pending.clear();
  // Let a pending acknowledgement (of `leave`) arrive before closing the connection.
  const socket = state.socket;
  setTimeout(() => { if (state.status === "ended") socket?.disconnect(); }, 1500);
  ui.screens.ended.querySelector("h1").focus();
}

function showRefused(data) {
  saveToken(null);
  resetConversation();
  setBanner("");
  state.socket?.disconnect();
  ui.refusedMessage.textContent = data.message || (data.code === "blocked"
    ? "Je kunt voorlopig niet meer chatten."
    : "Je hebt een time-out gekregen.");
  // The server's Dutch text usually names the end date already; add it only when it does not.
  const year = data.until ? String(new Date(data.until).getUTCFullYear()) : "";
  const named = Boolean(data.message) && year !== "" && data.message.includes(year);
  ui.refusedUntil.textContent = data.until && !named ? `Je kunt weer chatten vanaf ${formatDate(data.until)}.` : "";
  show(ui.refusedUntil, Boolean(ui.refusedUntil.textContent));
  setStatus("refused");
}

// ---------------------------------------------------------------- controls

ui.start.addEventListener("click", () => {
  show(ui.startError, false);
  const payload = {};
  if (ui.age.value) payload.age = Number(ui.age.value);
  if (ui.topic.value) payload.topic = ui.topic.value;
  resetConversation();
  state.startPayload = payload;
  setStatus("connecting");
  // Every conversation on a fresh connection: the server checks time-outs and blocks on connect.
  state.socket?.disconnect();
  connect();
});

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.text.value;
  if (!text.trim()) return;
  if (text.length > state.maxLength) {
    ui.count.textContent = `Je bericht is te lang: maximaal ${state.maxLength} tekens.`;
    show(ui.count, true);
    return;
  }
  ui.text.value = "";
  autosize();
  updateCount();
  stopTyping();
  addOwnMessage(text);
  ui.text.focus();
});

ui.text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.text.addEventListener("input", () => {
  autosize();
  updateCount();
  if (!state.socket?.connected || state.status !== "active") return;
  if (!state.typingSent && ui.text.value.trim()) {
    state.typingSent = true;
    state.socket.emit("typing", { typing: true }, () => {});
  }
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(stopTyping, 4000);
});

function stopTyping() {
  clearTimeout(state.typingTimer);
  if (state.typingSent && state.socket?.connected) state.socket.emit("typing", { typing: false }, () => {});
  state.typingSent = false;
}

function autosize() {
  // CSSOM (not an inline style attribute), so the Content-Security-Policy allows it.
  ui.text.style.height = "auto";
  ui.text.style.height = `${Math.min(ui.text.scrollHeight + 4, 144)}px`;
}

function updateCount() {
  const left = state.maxLength - ui.text.value.length;
  show(ui.count, left < 500);
  ui.count.textContent = `Nog ${left} tekens`;
}

ui.stop.addEventListener("click", async () => {
  if (!state.socket?.connected) {
    ended("chatter", null);
    return;
  }
  ui.stop.disabled = true;
  const ack = await request(state.socket, "leave", {});
  ui.stop.disabled = false;
  if (state.status === "ended") {
    if (ack.ok && ack.reference && ui.referenceBox.hidden) ended("chatter", ack.reference);
    return;
  }
  ended("chatter", ack.ok ? ack.reference : null);
});

ui.again.addEventListener("click", () => {
  resetConversation();
  show(ui.startError, false);
  setStatus("welcome");
  ui.start.focus();
});

ui.copyReference.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(ui.reference.textContent);
    ui.copyDone.textContent = "Gekopieerd";
  } catch {
    ui.copyDone.textContent = "Kopiëren lukte niet; schrijf de code over.";
  }
});

// Leave at once: replace this page in the history, so Back does not come back here.
function quickExit() {
  const target = ui.quickExit.dataset.href || "https://www.google.nl/";
  tokenStore.set(null);
  try {
    if (state.socket?.connected && inConversation()) state.socket.emit("leave", {});
  } catch { /* leaving matters more than telling the server */ }
  if (window.parent !== window) {
    window.parent.postMessage({ type: "chatserver:quick-exit", href: target }, "*");
    window.location.replace("about:blank");
    return;
  }
  window.location.replace(target);
}

ui.quickExit.addEventListener("click", quickExit);

// ---------------------------------------------------------------- start-up

function fillAges() {
  for (let age = 8; age <= 25; age += 1) {
    ui.age.append(el("option", { value: String(age), text: age === 25 ? "25 of ouder" : `${age} jaar` }));
  }
}

async function loadConfig() {
  try {
    const response = await fetch("/api/config", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    const config = await response.json();
    if (Number.isInteger(config.max_text_length)) {
      state.maxLength = config.max_text_length;
      ui.text.maxLength = config.max_text_length;
    }
    for (const topic of config.topics || []) ui.topic.append(el("option", { value: topic, text: topic }));
  } catch {
    ui.topic.closest(".field").hidden = true;
  }
}

if (window.parent !== window) {
  // Inside a helpline's site (embed.js): offer to fold the chat away; the conversation goes on.
  document.documentElement.classList.add("is-embedded");
  const hide = $("#hide");
  show(hide, true);
  hide.addEventListener("click", () => window.parent.postMessage({ type: "chatserver:hide" }, "*"));
}
fillAges();
loadConfig();
if (state.token) {
  setStatus("connecting");
  ui.start.textContent = "Je gesprek wordt hervat…";
  connect();
} else {
  setStatus("welcome");
}
