// Reading along with a colleague's conversation (supervisors and up): `monitor` for the
// transcript and live events, whispers to the volunteer, `Stop meelezen` (`unmonitor`).

import { el, request } from "/static/shared/dom.js";
import { state } from "/static/console/state.js";

export class ReadAlong {
  // `conv` is a Conversation in mode "monitor": its id, log, status, note() and close().
  constructor(conv) {
    this.conv = conv;
    this.text = el("textarea", { rows: "2", "aria-label": "Fluistering aan de vrijwilliger", placeholder: "Fluister de vrijwilliger een tip toe (de jongere ziet dit niet)" });
    this.form = el("form", { class: "conv__whisper", hidden: true }, this.text, el("button", { type: "submit", class: "button button--whisper", text: "Fluister" }));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.whisper(); });
    this.stopButton = el("button", { type: "button", class: "button button--quiet button--small", text: "Stop meelezen", hidden: true, onclick: () => this.stop() });
  }

  async start() {
    const ack = await request(state.socket, "monitor", { conversation_id: this.conv.id });
    if (!ack.ok) {
      this.conv.note(ack.error?.message || "Meelezen lukte niet.");
      return;
    }
    for (const msg of ack.messages || []) this.conv.log.addMessage({ ...msg, conversation_id: this.conv.id });
  }

  // After a reconnect the server has forgotten who reads along: ask again.
  restart() {
    if (this.conv.status !== "ended") this.start();
  }

  async stop() {
    await request(state.socket, "unmonitor", { conversation_id: this.conv.id });
    this.conv.close();
  }

  // When the tab closes while the conversation goes on, without waiting for the answer.
  leave() {
    if (this.conv.status !== "ended" && state.socket?.connected) {
      state.socket.emit("unmonitor", { conversation_id: this.conv.id }, () => {});
    }
  }

  async whisper() {
    const text = this.text.value;
    if (!text.trim()) return;
    const ack = await request(state.socket, "whisper", { conversation_id: this.conv.id, text });
    if (ack.ok) {
      this.text.value = "";
      this.conv.log.addWhisper({ from: "jou", text, ts: new Date().toISOString() });
    } else this.conv.note(ack.error?.message || "Fluisteren lukte niet.");
  }
}
