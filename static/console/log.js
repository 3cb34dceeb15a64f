// One conversation's transcript (role="log"): messages in time order, each once, the
// volunteer's own messages from *Versturen…* to *Verstuurd*, placeholders set off, whispers, notes.

import { el, formatTime } from "/static/shared/dom.js";
import { addFlagControls, applyHints, clearHints } from "/static/console/flagging.js";

const PLACEHOLDER = /^\[[A-Z\-]{2,20}\]$/;

export class ConversationLog {
  // `conv` is the Conversation this log belongs to: its id, info (alias, volunteer) and mode.
  constructor(conv, labelledBy) {
    this.conv = conv;
    this.messages = new Map(); // id → node
    this.pending = []; // own messages not yet confirmed: {text, node, id}
    this.hintsFor = new Map(); // message id → entities, also for messages still to come
    this.node = el("div", { class: "log conv__log", role: "log", "aria-live": "polite", "aria-labelledby": labelledBy, tabindex: "0" });
  }

  scrollToEnd() {
    this.node.scrollTop = this.node.scrollHeight;
  }

  // Returns true when the message is new to this view.
  addMessage(msg) {
    if (!msg || typeof msg.id !== "string") return false;
    const known = this.messages.get(msg.id);
    if (known) {
      if (msg.redacted) this.setMessageText(known, msg.text, true);
      return false;
    }
    if (msg.from === "volunteer" && this.conv.mode === "own") {
      const index = this.pending.findIndex((p) => p.text === msg.text && !p.id);
      if (index >= 0) {
        const item = this.pending.splice(index, 1)[0];
        this.confirmOwn(item, msg.id, msg.ts);
        return false;
      }
    }
    const node = this.messageNode(msg);
    this.messages.set(msg.id, node);
    this.insert(node, msg.ts);
    const pendingHints = this.hintsFor.get(msg.id);
    if (pendingHints) applyHints(node, pendingHints);
    return true;
  }

  insert(node, ts) {
    // Keep the transcript in time order even when a resync delivers older messages late.
    node.dataset.ts = ts || "";
    const after = [...this.node.children].find((child) => child.dataset.ts && ts && child.dataset.ts > ts);
    if (after) this.node.insertBefore(node, after);
    else this.node.append(node);
    this.scrollToEnd();
  }

  messageNode(msg) {
    const { info, mode } = this.conv;
    const fromChatter = msg.from === "chatter";
    const own = msg.from === "volunteer" && mode === "own";
    const who = fromChatter ? (info.chatter || "Jongere") : (own ? "Jij" : (info.volunteer || "Vrijwilliger"));
    const textNode = el("div", { class: "msg__bubble msg__text" });
    const meta = el("div", { class: "msg__meta" }, el("span", { class: "msg__who", text: who }), ` · ${formatTime(msg.ts)}`);
    const node = el("div", { class: `msg ${fromChatter ? "msg--other" : "msg--own"} ${!fromChatter && !own ? "msg--colleague" : ""}` }, textNode, meta);
    node.dataset.id = msg.id;
    this.setMessageText(node, String(msg.text ?? ""), Boolean(msg.redacted));
    if (fromChatter) addFlagControls(this, node, msg.id);
    return node;
  }

  setMessageText(node, text, redacted) {
    const textNode = node.querySelector(".msg__text");
    textNode.replaceChildren();
    // Placeholders such as [NAAM] are set apart so the volunteer sees at a glance what was removed.
    for (const part of text.split(/(\[[A-Z\-]{2,20}\])/)) {
      if (PLACEHOLDER.test(part) && redacted) textNode.append(el("span", { class: "placeholder-token", text: part }));
      else if (part) textNode.append(document.createTextNode(part));
    }
    node.dataset.text = text;
    if (redacted) {
      node.classList.add("msg--redacted");
      if (!node.querySelector(".msg__redacted")) {
        node.querySelector(".msg__meta").prepend(el("span", { class: "msg__redacted", text: "geanonimiseerd" }), " ");
      }
      this.hintsFor.delete(node.dataset.id);
      clearHints(node);
    }
  }

  // The server's `hints`: suspected identifying ranges in a chatter message.
  hints(messageId, entities) {
    if (!Array.isArray(entities) || !entities.length) return;
    this.hintsFor.set(messageId, entities);
    const node = this.messages.get(messageId);
    if (node) applyHints(node, entities);
  }

  redacted(messageId, text) {
    const node = this.messages.get(messageId);
    if (node && typeof text === "string") this.setMessageText(node, text, true);
  }

  addWhisper(data) {
    const node = el("div", { class: "whisper", role: "note" },
      el("div", { class: "whisper__head" },
        el("span", { class: "whisper__label", text: "Fluistering" }),
        ` van ${data.from || "supervisor"} · ${formatTime(data.ts)} · alleen voor de vrijwilliger`),
      el("div", { class: "whisper__text", text: String(data.text ?? "") }));
    this.insert(node, data.ts);
  }

  note(text) {
    this.insert(el("p", { class: "system-note", text }), new Date().toISOString());
  }

  // An own message on its way: shown at once, after everything else until the server confirms it.
  addPending(text) {
    const node = this.messageNode({ id: "", from: "volunteer", text, ts: new Date().toISOString() });
    node.classList.add("msg--sending");
    const item = { text, node, id: null };
    this.pending.push(item);
    this.insert(node, "~");
    this.setMeta(item, "Versturen…");
    return item;
  }

  // The server's ack of an own message; false when the message had already arrived as an event.
  sent(item, id, ts) {
    this.pending = this.pending.filter((p) => p !== item);
    if (this.messages.has(id)) {
      item.node.remove();
      return false;
    }
    this.confirmOwn(item, id, ts);
    return true;
  }

  failed(item, text, retry) {
    item.node.classList.add("msg--failed");
    this.setMeta(item, text);
    item.node.querySelector(".msg__meta").append(" ", el("button", {
      type: "button", class: "msg__retry", text: "Opnieuw proberen", onclick: retry,
    }));
  }

  confirmOwn(item, id, ts) {
    item.id = id;
    item.node.dataset.id = id;
    item.node.dataset.ts = ts || "";
    item.node.classList.remove("msg--sending", "msg--failed");
    this.messages.set(id, item.node);
    this.setMeta(item, `Verstuurd · ${formatTime(ts)}`);
  }

  setMeta(item, text) {
    const meta = item.node.querySelector(".msg__meta");
    meta.replaceChildren(el("span", { class: "msg__who", text: "Jij" }), ` · ${text}`);
  }
}
