// The controls: start, the composer (typing, length), stop, again, copy the code, Snel weg.

import { show, request } from "/static/shared/dom.js";
import { connect } from "./connection.js";
import { addOwnMessage } from "./messages.js";
import { ended, resetConversation, setStatus } from "./screens.js";
import { inConversation, state, tokenStore, ui } from "./state.js";

export function wireControls() {
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

  ui.erase.addEventListener("click", eraseConversation);

  ui.quickExit.addEventListener("click", quickExit);
}

// "Wis mijn gesprek": on the connection that had the conversation, or (once it has closed)
// with the personal code, as the page /wissen does.
async function eraseConversation() {
  ui.erase.disabled = true;
  ui.eraseDone.textContent = "Even wissen…";
  let ok = false;
  if (state.socket?.connected) {
    const ack = await request(state.socket, "erase", {});
    ok = ack.ok === true;
  }
  if (!ok && state.reference) {
    try {
      const response = await fetch("/api/erase", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ reference: state.reference }),
      });
      ok = response.ok;
    } catch { /* said below */ }
  }
  ui.erase.disabled = false;
  show(ui.erase, !ok);
  ui.eraseDone.textContent = ok
    ? "Je gesprek is gewist."
    : "Wissen lukte nu niet. Probeer het later opnieuw met je code op de pagina /wissen.";
}

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
