// The conversations as tabs (a vertical tablist; arrow keys, Home and End move): which one is
// shown, and each tab's alias, contact line and unread badge.

import { $, el, show } from "/static/shared/dom.js";
import { state, isSupervisor } from "/static/console/state.js";
import { updateTitle } from "/static/console/cues.js";

const ui = {
  tabs: $("#tabs"),
  tabsEmpty: $("#tabs-empty"),
  overview: $("#overview"),
  placeholder: $("#placeholder"),
};

// Shows conversation `id` (or "overview", or nothing when null).
export function select(id) {
  state.selected = id;
  for (const conv of state.conversations.values()) conv.setSelected(conv.id === id);
  show(ui.overview, id === "overview" && isSupervisor());
  const overviewTab = $("#tab-overview");
  if (overviewTab) {
    overviewTab.setAttribute("aria-selected", id === "overview" ? "true" : "false");
    overviewTab.tabIndex = id === "overview" ? 0 : -1;
  }
  show(ui.placeholder, !id || (id !== "overview" && !state.conversations.has(id)));
  updateTitle();
}

// Where to go when the shown conversation closes: the overview for supervisors, else the first.
export function selectDefault() {
  const first = state.conversations.keys().next();
  select(isSupervisor() ? "overview" : (first.done ? null : first.value));
}

export function renderTabs() {
  show(ui.tabsEmpty, state.conversations.size === 0);
}

export class ConversationTab {
  constructor(conversationId, n) {
    this.conversationId = conversationId;
    this.unread = 0;
    this.name = el("span", { class: "tab__name" });
    this.sub = el("span", { class: "tab__sub" });
    this.badge = el("span", { class: "badge", hidden: true });
    this.button = el("button", {
      type: "button", role: "tab", id: `tab-${n}`, class: "tab", "aria-controls": `panel-${n}`,
      "aria-selected": "false", tabindex: "-1", onclick: () => select(conversationId),
    }, el("span", { class: "tab__line" }, this.name, this.badge), this.sub);
    ui.tabs.append(this.button);
  }

  describe(name, sub, { ended, monitor }) {
    this.name.textContent = name;
    this.sub.textContent = sub;
    this.button.classList.toggle("tab--ended", ended);
    this.button.classList.toggle("tab--monitor", monitor);
  }

  setSelected(selected) {
    this.button.setAttribute("aria-selected", selected ? "true" : "false");
    this.button.tabIndex = selected ? 0 : -1;
    if (selected) this.clearUnread();
  }

  // Counts a new message unless the volunteer is looking at it; `force` counts it anyway.
  bumpUnread(force = false) {
    if (!force && state.selected === this.conversationId && !document.hidden) return;
    this.unread += 1;
    this.renderBadge();
    updateTitle();
  }

  clearUnread() {
    this.unread = 0;
    this.renderBadge();
  }

  renderBadge() {
    this.badge.textContent = this.unread ? String(this.unread) : "";
    this.badge.setAttribute("aria-label", `${this.unread} ongelezen`);
    show(this.badge, this.unread > 0);
  }

  remove() {
    this.button.remove();
  }
}

ui.tabs.addEventListener("keydown", (event) => {
  if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
  const tabs = [...ui.tabs.querySelectorAll('[role="tab"]')];
  const index = tabs.indexOf(document.activeElement);
  if (index < 0) return;
  event.preventDefault();
  let next = index;
  if (event.key === "ArrowDown") next = (index + 1) % tabs.length;
  if (event.key === "ArrowUp") next = (index - 1 + tabs.length) % tabs.length;
  if (event.key === "Home") next = 0;
  if (event.key === "End") next = tabs.length - 1;
  tabs[next].focus();
  tabs[next].click();
});

// Coming back to the tab counts as reading the conversation on screen.
document.addEventListener("visibilitychange", () => {
  if (document.hidden || !state.selected) return;
  const conv = state.conversations.get(state.selected);
  if (conv) {
    conv.tab.clearUnread();
    updateTitle();
  }
});
