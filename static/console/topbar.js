// The top bar: the queue size, `Capaciteit` and the `Beschikbaar` toggle (which always shows
// what the server last said), and who is signed in.

import { $, el, request } from "/static/shared/dom.js";
import { state } from "/static/console/state.js";
import { setBanner } from "/static/console/cues.js";

const ROLE_NAME = { volunteer: "vrijwilliger", supervisor: "supervisor", coordinator: "coördinator", admin: "beheerder" };

const ui = {
  queueSize: $("#queue-size"),
  overviewQueue: $("#overview-queue"),
  capacity: $("#capacity"),
  available: $("#available"),
  userName: $("#user-name"),
  userRole: $("#user-role"),
};

export function showUser(user) {
  ui.userName.textContent = user?.display_name || user?.username || "";
  ui.userRole.textContent = ROLE_NAME[user?.role] || user?.role || "";
}

// In the top bar and in the supervisors' overview.
export function setQueue(waiting) {
  if (!Number.isInteger(waiting)) return;
  const text = waiting === 1 ? "1 jongere wacht" : `${waiting} jongeren wachten`;
  ui.queueSize.textContent = `In de rij: ${waiting}`;
  ui.queueSize.classList.toggle("bar__queue--busy", waiting > 0);
  ui.overviewQueue.textContent = waiting ? text : "Niemand in de rij";
}

// Disabled while the server's truth is unknown: before its `state` and while disconnected.
export function enableAvailability(enabled) {
  ui.available.disabled = !enabled;
}

export function setAvailable(on) {
  state.available = on;
  ui.available.setAttribute("aria-pressed", on ? "true" : "false");
  ui.available.title = on ? "Je ontvangt nieuwe chats. Klik om te pauzeren." : "Je ontvangt geen nieuwe chats.";
}

export function setCapacity(capacity) {
  if (![...ui.capacity.options].some((o) => o.value === String(capacity))) {
    ui.capacity.append(el("option", { value: String(capacity), text: `${capacity} gesprekken` }));
  }
  ui.capacity.value = String(capacity);
}

// 1 to the server's max_capacity, keeping the current choice where it still fits.
export function fillCapacity(config) {
  const max = Number.isInteger(config.max_capacity) ? config.max_capacity : 4;
  const chosen = ui.capacity.value;
  ui.capacity.replaceChildren(...Array.from({ length: Math.max(1, max) }, (_, i) =>
    el("option", { value: String(i + 1), text: i === 0 ? "1 gesprek" : `${i + 1} gesprekken` })));
  ui.capacity.value = Number(chosen) <= max ? chosen : "1";
}

ui.available.addEventListener("click", async () => {
  if (!state.socket?.connected) return;
  const want = !state.available;
  ui.available.disabled = true;
  const ack = want
    ? await request(state.socket, "available", { capacity: Number(ui.capacity.value) })
    : await request(state.socket, "unavailable", {});
  ui.available.disabled = false;
  if (ack.ok) setAvailable(want);
  else setBanner(ack.error?.message || "Dat lukte niet.");
});

ui.capacity.addEventListener("change", async () => {
  if (!state.available || !state.socket?.connected) return;
  await request(state.socket, "available", { capacity: Number(ui.capacity.value) });
});
