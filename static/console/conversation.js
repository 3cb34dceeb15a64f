// One conversation in the console, the volunteer's own or one read along with: its tab and
// panel (header with facts and actions, log, typing line, composer or whisper box, registration).

import { $, el, show, formatTime } from "/static/shared/dom.js";
import { api, state, isCoordinator } from "/static/console/state.js";
import { updateTitle } from "/static/console/cues.js";
import { ConversationTab, renderTabs, selectDefault } from "/static/console/tabs.js";
import { ConversationLog } from "/static/console/log.js";
import { Composer } from "/static/console/composer.js";
import { ReadAlong } from "/static/console/monitor.js";
import { Registration } from "/static/console/registration.js";
import { askBlock, askTimeout, end } from "/static/console/dialogs.js";

const ENDED_TEXT = {
  chatter: "De jongere heeft het gesprek beëindigd.",
  volunteer: "Het gesprek is beëindigd.",
  timeout: "Het gesprek is beëindigd met een time-out.",
  blocked: "Het gesprek is beëindigd; de jongere is geblokkeerd.",
};

const panels = $("#panels");
let panelCounter = 0;

// The open conversation `info.conversation_id`, made (with its tab) if it is new, updated if not.
export function openConversation(info, status, mode = "own") {
  let conv = state.conversations.get(info.conversation_id);
  if (!conv) {
    conv = new Conversation(info, mode);
    state.conversations.set(conv.id, conv);
    renderTabs();
  } else {
    conv.update(info);
  }
  conv.setStatus(status);
  return conv;
}

// "eerste contact", "3e contact" from the server's contact_count.
export function contactText(count) {
  if (!Number.isInteger(count)) return "";
  return count <= 0 ? "eerste contact" : `${count + 1}e contact`;
}

class Conversation {
  constructor(info, mode) {
    const n = ++panelCounter;
    this.id = info.conversation_id;
    this.info = { ...info };
    this.mode = mode; // own | monitor
    this.status = "active";
    this.tab = new ConversationTab(this.id, n);

    this.title = el("h2", { class: "conv__title", id: `conv-title-${n}` });
    this.facts = el("p", { class: "conv__facts" });
    this.modeNote = el("p", { class: "conv__mode", hidden: true });
    this.readAlong = new ReadAlong(this);
    this.timeoutButton = el("button", { type: "button", class: "button button--quiet button--small", text: "Time-out", onclick: () => askTimeout(this) });
    this.blockButton = el("button", { type: "button", class: "button button--quiet button--small", text: "Blokkeren", hidden: !isCoordinator(), onclick: () => askBlock(this) });
    this.endButton = el("button", { type: "button", class: "button button--danger button--small", text: "Gesprek beëindigen", onclick: () => end(this, this.endButton) });
    const actions = el("div", { class: "conv__actions" }, this.readAlong.stopButton, this.timeoutButton, this.blockButton, this.endButton);
    const head = el("header", { class: "conv__head" }, el("div", { class: "conv__who" }, this.title, this.facts, this.modeNote), actions);

    this.log = new ConversationLog(this, `conv-title-${n}`);
    this.typing = el("div", { class: "typing conv__typing", "aria-live": "polite" });
    this.composer = new Composer(this, n);
    this.registration = new Registration(this, n);
    this.panel = el("section", {
      class: "conv card", role: "tabpanel", id: `panel-${n}`, "aria-labelledby": `tab-${n}`, hidden: true,
    }, head, this.log.node, this.typing, this.composer.form, this.readAlong.form, this.registration.node);
    panels.append(this.panel);
    this.update(this.info);
    this.setMode(this.mode);
  }

  // Takes in what the server says of the conversation (`assigned`, `state`, the overview).
  update(info) {
    Object.assign(this.info, Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined && v !== null)));
    this.title.textContent = this.info.chatter || "Jongere";
    const facts = [contactText(this.info.contact_count)];
    if (this.info.age) facts.push(`${this.info.age} jaar`);
    if (this.info.topic) facts.push(this.info.topic);
    if (this.info.started_at) facts.push(`gestart ${formatTime(this.info.started_at)}`);
    if (this.mode === "monitor" && this.info.volunteer) facts.push(`met ${this.info.volunteer}`);
    this.facts.textContent = facts.filter(Boolean).join(" · ");
    this.registration.prefill(this.info);
    this.renderTab();
  }

  renderTab() {
    let sub = this.status === "ended" ? "beëindigd" : contactText(this.info.contact_count);
    if (this.mode === "monitor") sub = `meelezen${this.info.volunteer ? ` · ${this.info.volunteer}` : ""}`;
    if (this.status === "ended" && this.mode === "monitor") sub = "beëindigd · meelezen";
    this.tab.describe(this.info.chatter || "Jongere", sub,
      { ended: this.status === "ended", monitor: this.mode === "monitor" });
  }

  setMode(mode) {
    this.mode = mode;
    const monitor = mode === "monitor";
    show(this.readAlong.form, monitor && this.status !== "ended");
    show(this.readAlong.stopButton, monitor);
    this.modeNote.textContent = monitor ? "Je leest mee. De jongere ziet jou niet; je fluistering ziet alleen de vrijwilliger." : "";
    show(this.modeNote, monitor);
    this.setStatus(this.status);
    this.update({});
  }

  setStatus(status) {
    this.status = status;
    const ended = status === "ended";
    const own = this.mode === "own";
    show(this.composer.form, own && !ended);
    show(this.readAlong.form, !own && !ended);
    show(this.timeoutButton, !ended);
    show(this.endButton, !ended);
    show(this.blockButton, !ended && isCoordinator());
    show(this.registration.node, ended && own);
    if (ended) this.typing.textContent = "";
    this.renderTab();
  }

  setSelected(selected) {
    this.tab.setSelected(selected);
    show(this.panel, selected);
    if (selected) this.log.scrollToEnd();
  }

  async loadTranscript() {
    const data = await api.call("GET", `/api/conversations/${encodeURIComponent(this.id)}/transcript`).catch(() => null);
    for (const msg of data?.messages || []) this.log.addMessage({ ...msg, conversation_id: this.id });
  }

  note(text) {
    this.log.note(text);
  }

  setTyping(on) {
    this.typing.textContent = on && this.status !== "ended" ? `${this.info.chatter || "De jongere"} is aan het typen…` : "";
  }

  ended(reason) {
    if (this.status === "ended") return;
    this.note(ENDED_TEXT[reason] || "Het gesprek is beëindigd.");
    this.setStatus("ended");
    this.composer.stopTyping();
    if (this.mode === "own" && state.selected === this.id) this.registration.focus();
  }

  close() {
    if (this.mode === "monitor") this.readAlong.leave();
    this.destroy();
    state.conversations.delete(this.id);
    renderTabs();
    if (state.selected === this.id) selectDefault();
    updateTitle();
  }

  destroy() {
    this.composer.stopTyping();
    this.tab.remove();
    this.panel.remove();
  }
}
