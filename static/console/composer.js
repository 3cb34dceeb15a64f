// The volunteer's composer in their own conversation: `Bericht` + `Verstuur` (Enter sends,
// Shift+Enter is a new line), the typing indicator towards the chatter, retry of a failed message.

import { el, request } from "/static/shared/dom.js";
import { state } from "/static/console/state.js";

const TYPING_PAUSE_MS = 4000; // no key for this long: the volunteer stopped typing

export class Composer {
  // `conv` is the volunteer's own Conversation: its id, mode and log.
  constructor(conv, n) {
    this.conv = conv;
    this.typingSent = false;
    this.typingTimer = null;
    this.text = el("textarea", { id: `composer-${n}`, rows: "2", maxlength: String(state.config.max_text_length || 4000), "aria-label": "Bericht", placeholder: "Schrijf een bericht… (Enter verstuurt, Shift+Enter voor een nieuwe regel)" });
    this.form = el("form", { class: "conv__composer" }, this.text, el("button", { type: "submit", class: "button", text: "Verstuur" }));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.text.addEventListener("input", () => this.typingInput());
  }

  typingInput() {
    if (!state.socket?.connected || this.conv.mode !== "own") return;
    if (!this.typingSent && this.text.value.trim()) {
      this.typingSent = true;
      state.socket.emit("typing", { conversation_id: this.conv.id, typing: true }, () => {});
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_PAUSE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingSent && state.socket?.connected) {
      state.socket.emit("typing", { conversation_id: this.conv.id, typing: false }, () => {});
    }
    this.typingSent = false;
  }

  async send(retryItem = null) {
    const text = retryItem ? retryItem.text : this.text.value;
    if (!text.trim()) return;
    const { log } = this.conv;
    let item = retryItem;
    if (!item) {
      this.text.value = "";
      this.stopTyping();
      item = log.addPending(text);
    }
    item.node.classList.remove("msg--failed");
    const ack = await request(state.socket, "message", { conversation_id: this.conv.id, text });
    if (ack.ok) log.sent(item, ack.id, ack.ts);
    else log.failed(item, ack.error?.message || "Niet verstuurd.", () => this.send(item));
  }
}
