// Ending a conversation from the console: `Gesprek beëindigen`, the `Time-out` dialog (minutes
// within the server's bounds) and, for coordinators and up, the `Blokkeren` dialog.

import { $, formatDate, request } from "/static/shared/dom.js";
import { state } from "/static/console/state.js";

const ui = {
  timeoutDialog: $("#timeout-dialog"),
  timeoutForm: $("#timeout-form"),
  timeoutMinutes: $("#timeout-minutes"),
  blockDialog: $("#block-dialog"),
  blockForm: $("#block-form"),
  blockDays: $("#block-days"),
  blockReason: $("#block-reason"),
  blockOverride: $("#block-override"),
};

// The default and bounds of a time-out from /api/config.
export function setTimeoutBounds(config) {
  const t = config.timeout_minutes || {};
  if (t.min) ui.timeoutMinutes.min = t.min;
  if (t.max) ui.timeoutMinutes.max = t.max;
  if (t.default) ui.timeoutMinutes.value = t.default;
  // A block lasts at most the server's setting (90 days or fewer): the default and the bound.
  if (Number.isInteger(config.block_days) && config.block_days > 0) {
    ui.blockDays.max = config.block_days;
    ui.blockDays.value = config.block_days;
  }
}

// Each function below acts on `conv`, a Conversation: its id, note() and ended().

export async function end(conv, button) {
  button.disabled = true;
  const ack = await request(state.socket, "end", { conversation_id: conv.id });
  button.disabled = false;
  if (ack.ok) conv.ended("volunteer");
  else conv.note(ack.error?.message || "Beëindigen lukte niet.");
}

export function askTimeout(conv) {
  openDialog(ui.timeoutDialog, ui.timeoutForm, async () => {
    const minutes = Number(ui.timeoutMinutes.value);
    const ack = await request(state.socket, "timeout", { conversation_id: conv.id, minutes });
    if (ack.ok) {
      conv.note(`Time-out gegeven tot ${formatDate(ack.until)}.`);
      conv.ended("timeout");
    } else conv.note(ack.error?.message || "Time-out geven lukte niet.");
  });
}

export function askBlock(conv) {
  openDialog(ui.blockDialog, ui.blockForm, async () => {
    const payload = { conversation_id: conv.id, days: Number(ui.blockDays.value) };
    if (ui.blockReason.value.trim()) payload.reason = ui.blockReason.value.trim();
    if (ui.blockOverride.value.trim()) payload.override_reason = ui.blockOverride.value.trim();
    const ack = await request(state.socket, "block", payload);
    if (ack.ok) {
      conv.note(`Geblokkeerd tot ${formatDate(ack.until)}.`);
      conv.ended("blocked");
    } else conv.note(ack.error?.message || "Blokkeren lukte niet.");
  });
}

// A modal dialog of the page (one of its <dialog>s): `onConfirm` runs after a valid submit;
// its listeners go when the dialog closes, so each opening acts on its own conversation.
function openDialog(dialog, form, onConfirm) {
  const cancel = dialog.querySelector("button[type=button]");
  const onSubmit = async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    dialog.close();
    await onConfirm();
  };
  const onCancel = () => dialog.close();
  const cleanup = () => {
    form.removeEventListener("submit", onSubmit);
    cancel.removeEventListener("click", onCancel);
  };
  form.addEventListener("submit", onSubmit);
  cancel.addEventListener("click", onCancel);
  dialog.addEventListener("close", cleanup, { once: true });
  dialog.showModal();
}
