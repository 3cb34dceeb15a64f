// The conversation log: messages from the server (live or from a resume), own messages on their
// way (retried after a reconnect), redactions, and the unread count in the tab's title.

import { el, formatTime, randomId, request } from "/static/shared/dom.js";
import { TITLE, state, ui } from "./state.js";

function scrollToEnd() {
  ui.log.scrollTop = ui.log.scrollHeight;
}

export function systemNote(text) {
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
export function addServerMessage(msg) {
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
export function showRedacted(data) {
  const node = state.seen.get(data?.message_id);
  if (node) setText(node, String(data.text ?? ""), true);
}

export function cueUnread() {
  if (!document.hidden) return;
  state.unread += 1;
  document.title = `(${state.unread}) Nieuw bericht – ${TITLE}`;
}

// The tab's title counts unread messages while the tab is hidden.
export function watchVisibility() {
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      state.unread = 0;
      document.title = TITLE;
    }
  });
}

export function addOwnMessage(text) {
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

export async function sendPending(clientId) {
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

export function flushPending() {
  for (const clientId of state.pending.keys()) sendPending(clientId);
}
