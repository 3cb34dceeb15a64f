// The screens: welcome → queue/chat → end (with the personal code), or refused; the banner and
// the queue position.

import { show, formatDate } from "/static/shared/dom.js";
import { saveToken, state, ui } from "./state.js";

const ENDED_TEXT = {
  chatter: "Je hebt het gesprek gestopt. Goed dat je er was.",
  volunteer: "De vrijwilliger heeft het gesprek afgesloten. Bedankt voor je vertrouwen.",
  timeout: "Het gesprek is gestopt en je kunt een tijdje niet chatten. Later ben je weer welkom.",
  blocked: "Het gesprek is gestopt. Je kunt voorlopig niet meer chatten.",
};

export function setScreen(name) {
  ui.app.dataset.screen = name;
  for (const [key, node] of Object.entries(ui.screens)) show(node, key === name);
}

export function setStatus(status) {
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
  ui.chatReferenceCode.textContent = state.reference || "";
  show(ui.chatReference, Boolean(state.reference) && (waiting || status === "active"));
  ui.chatTitle.textContent = waiting
    ? "Even geduld"
    : state.volunteer ? `Je praat met ${state.volunteer}` : "Je gesprek";
  ui.chatSub.textContent = waiting ? "Je staat in de rij" : "Vrijwilliger van Even praten";
  if (status !== "active") ui.typing.textContent = "";
}

export function setBanner(text) {
  ui.banner.textContent = text || "";
  show(ui.banner, Boolean(text));
}

export function setPosition(position) {
  if (typeof position !== "number") return;
  ui.position.textContent = position <= 1
    ? "Jij bent de volgende!"
    : `Er zijn nog ${position - 1} ${position - 1 === 1 ? "persoon" : "mensen"} voor je. Je bent nummer ${position}.`;
}

export function resetConversation() {
  state.conversationId = null;
  state.reference = null;
  state.volunteer = null;
  state.lastId = null;
  state.seen.clear();
  state.pending.clear();
  ui.log.replaceChildren();
  ui.typing.textContent = "";
}

export function ended(reason, reference) {
  saveToken(null);
  setStatus("ended");
  setBanner("");
  ui.endedReason.textContent = ENDED_TEXT[reason] || "Bedankt voor je vertrouwen.";
  reference = reference || state.reference;
  state.reference = reference || null;
  ui.eraseDone.textContent = "";
  show(ui.erase, true);
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

export function showRefused(data) {
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
