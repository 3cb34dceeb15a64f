// The supervisors' `Overzicht` tab: the live list of ongoing conversations and the queue,
// refreshed with `list_conversations`, and `Lees mee` to open one read-only.

import { $, el, show, formatTime, request } from "/static/shared/dom.js";
import { state, isSupervisor } from "/static/console/state.js";
import { select } from "/static/console/tabs.js";
import { setQueue } from "/static/console/topbar.js";
import { contactText, openConversation } from "/static/console/conversation.js";

const ui = {
  tabs: $("#tabs"),
  overview: $("#overview"),
  rows: $("#overview-rows"),
  empty: $("#overview-empty"),
};

// The `Overzicht` tab first in the list for supervisors and up; none for volunteers.
export function renderOverviewTab() {
  let tab = $("#tab-overview");
  if (isSupervisor() && !tab) {
    tab = el("button", {
      type: "button", role: "tab", id: "tab-overview", class: "tab tab--overview",
      "aria-controls": "overview", "aria-selected": "false",
      onclick: () => { select("overview"); refreshOverview(); },
    }, el("span", { class: "tab__name", text: "Overzicht" }), el("span", { class: "tab__sub", text: "alle lopende gesprekken" }));
    ui.tabs.prepend(tab);
    ui.overview.setAttribute("role", "tabpanel");
    ui.overview.setAttribute("aria-labelledby", "tab-overview");
  }
  if (!isSupervisor() && tab) tab.remove();
}

export async function refreshOverview() {
  if (!isSupervisor() || !state.socket?.connected) return;
  const ack = await request(state.socket, "list_conversations", {});
  if (!ack.ok) return;
  setQueue(ack.waiting);
  const rows = (ack.conversations || []).filter((c) => c.status !== "ended");
  ui.rows.replaceChildren(...rows.map((c) => {
    const open = state.conversations.get(c.conversation_id);
    const mine = open && open.mode === "own";
    const action = mine
      ? el("button", { type: "button", class: "button button--quiet button--small", text: "Open", onclick: () => select(c.conversation_id) })
      : el("button", {
        type: "button", class: "button button--secondary button--small", text: open ? "Open" : "Lees mee",
        "aria-label": open ? `Open gesprek met ${c.chatter}` : `Lees mee met ${c.chatter}`,
        onclick: () => openMonitor(c),
      });
    return el("tr", {},
      el("th", { scope: "row", text: c.chatter || "Jongere" }),
      el("td", { text: c.volunteer || "—" }),
      el("td", {}, el("span", { class: `status status--${c.status}`, text: c.status === "waiting" ? "wacht" : c.status === "active" ? "actief" : c.status })),
      el("td", { text: formatTime(c.started_at) }),
      el("td", { text: contactText(c.contact_count) }),
      el("td", {}, action));
  }));
  show(ui.empty, rows.length === 0);
}

async function openMonitor(info) {
  let conv = state.conversations.get(info.conversation_id);
  if (!conv) {
    conv = openConversation(info, info.status === "ended" ? "ended" : "active", "monitor");
    await conv.readAlong.start();
  }
  select(conv.id);
}
