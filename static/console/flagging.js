// Flagging identifying details in a chatter message: the `Markeer als identificerend` button
// (`flag`), the server's hints underlined, and a selection made unrecognisable by hand (`redact_span`).

import { el, request } from "/static/shared/dom.js";
import { state } from "/static/console/state.js";
import { entityLabel, entityTypes, loadConfig } from "/static/console/config.js";

// The flag button and the manual selection on a chatter message's node in `log`.
export function addFlagControls(log, node, messageId) {
  const flagButton = el("button", {
    type: "button", class: "msg__flag", text: "Markeer als identificerend",
    title: "Laat de herkenbare gegevens in dit bericht vervangen door een aanduiding zoals [NAAM]",
    onclick: () => flag(log, messageId, flagButton),
  });
  node.querySelector(".msg__meta").append(" ", flagButton);
  const textNode = node.querySelector(".msg__text");
  textNode.addEventListener("mouseup", () => offerRedaction(log, node));
  textNode.addEventListener("keyup", () => offerRedaction(log, node));
}

async function flag(log, messageId, button) {
  button.disabled = true;
  const old = button.textContent;
  button.textContent = "Bezig…";
  button.setAttribute("aria-label", "Markeer als identificerend");
  const ack = await request(state.socket, "flag", { conversation_id: log.conv.id, message_id: messageId }, 30000);
  button.disabled = false;
  button.textContent = old;
  if (ack.ok) {
    const node = log.messages.get(messageId);
    if (node && typeof ack.text === "string") log.setMessageText(node, ack.text, true);
  } else if (ack.error?.code === "redactor_unavailable") {
    log.note("De automatische herkenning werkt nu niet. Selecteer de gegevens in het bericht en maak ze zelf onherkenbaar.");
  } else {
    log.note(ack.error?.message || "Markeren lukte niet.");
  }
}

// Underlines the suspected ranges and makes the flag button stand out; the text stays as written.
export function applyHints(node, entities) {
  if (node.classList.contains("msg--redacted")) return;
  const text = node.dataset.text || "";
  const spans = entities
    .filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.start < e.end && e.end <= text.length)
    .sort((a, b) => a.start - b.start);
  const textNode = node.querySelector(".msg__text");
  textNode.replaceChildren();
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue;
    if (span.start > at) textNode.append(document.createTextNode(text.slice(at, span.start)));
    textNode.append(el("mark", { class: "hint", title: `Mogelijk herkenbaar: ${entityLabel(span.type)}`, text: text.slice(span.start, span.end) }));
    at = span.end;
  }
  if (at < text.length) textNode.append(document.createTextNode(text.slice(at)));
  node.classList.add("msg--hinted");
  // For screen readers, outside the text itself (so the text stays exactly as it was written).
  const kinds = [...new Set(spans.map((e) => entityLabel(e.type)))];
  clearHints(node);
  node.querySelector(".msg__meta").append(el("span", {
    class: "visually-hidden msg__hints-note", text: ` Mogelijk herkenbaar: ${kinds.join(", ")}.`,
  }));
  const flagButton = node.querySelector(".msg__flag");
  if (flagButton) flagButton.classList.add("msg__flag--suggested");
}

export function clearHints(node) {
  node.querySelector(".msg__hints-note")?.remove();
}

// Manual redaction: select part of a chatter message, choose what it is, replace it.
function offerRedaction(log, node) {
  const selection = window.getSelection();
  const textNode = node.querySelector(".msg__text");
  node.querySelector(".redact")?.remove();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return;
  const range = selection.getRangeAt(0);
  if (!textNode.contains(range.startContainer) || !textNode.contains(range.endContainer)) return;
  const start = offsetIn(textNode, range.startContainer, range.startOffset);
  const end = offsetIn(textNode, range.endContainer, range.endOffset);
  if (start === null || end === null || end <= start) return;
  const quoted = `“${(node.dataset.text || "").slice(start, end)}”`;
  let bar = null;
  const cancel = el("button", { type: "button", class: "button button--quiet button--small", text: "Annuleer", onclick: () => bar.remove() });
  const types = entityTypes();
  if (!types.length) {
    // The server only accepts its own entity types, and /api/config has not told us them yet.
    bar = el("div", { class: "redact" },
      el("span", { text: `${quoted} onherkenbaar maken lukt nu niet: de soorten gegevens zijn niet geladen. Probeer het zo opnieuw.` }), cancel);
    loadConfig();
  } else {
    const type = el("select", { "aria-label": "Soort gegeven" },
      types.map((value) => el("option", { value, text: entityLabel(value) })));
    bar = el("div", { class: "redact" },
      el("span", { text: `${quoted} onherkenbaar maken als` }), type,
      el("button", {
        type: "button", class: "button button--small", text: "Maak onherkenbaar",
        onclick: async () => {
          const ack = await request(state.socket, "redact_span", { conversation_id: log.conv.id, message_id: node.dataset.id, start, end, type: type.value });
          bar.remove();
          if (ack.ok && typeof ack.text === "string") log.setMessageText(node, ack.text, true);
          else log.note(ack.error?.message || "Onherkenbaar maken lukte niet.");
        },
      }),
      cancel);
  }
  node.append(bar);
}

// Offset of a DOM position within the plain text of `root` (the message as delivered);
// screen-reader-only notes inside the text are not part of it.
function offsetIn(root, container, offset) {
  const range = document.createRange();
  range.selectNodeContents(root);
  try {
    range.setEnd(container, offset);
  } catch {
    return null;
  }
  const fragment = range.cloneContents();
  for (const hidden of fragment.querySelectorAll(".visually-hidden")) hidden.remove();
  return fragment.textContent.length;
}
