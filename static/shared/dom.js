// Small DOM helpers shared by the widget and the console.
// Text is always set with textContent: nothing a person types is ever parsed as HTML.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function show(node, visible) {
  node.hidden = !visible;
}

// The helpline works in Dutch time, and so do the server's own Dutch texts.
const timeZone = "Europe/Amsterdam";
const timeFormat = new Intl.DateTimeFormat("nl-NL", { hour: "2-digit", minute: "2-digit", timeZone });
const dateFormat = new Intl.DateTimeFormat("nl-NL", {
  weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone,
});

export function formatTime(ts) {
  const date = ts ? new Date(ts) : new Date();
  return Number.isNaN(date.getTime()) ? "" : timeFormat.format(date);
}

export function formatDate(ts) {
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? "" : dateFormat.format(date);
}

export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Emit with an acknowledgement, resolving to the ack or to an error-shaped object on time-out,
// so callers handle one shape: {ok: true, ...} or {ok: false, error: {code, message}}.
export function request(socket, event, payload, timeoutMs = 10000) {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
      if (err) resolve({ ok: false, error: { code: "no_answer", message: "Geen antwoord van de server." } });
      else resolve(ack && typeof ack === "object" ? ack : { ok: false, error: { code: "invalid" } });
    });
  });
}
