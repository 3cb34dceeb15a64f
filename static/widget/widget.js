// The chat widget for young people: rules → queue → chat → personal code.
// Only the resume token is kept, in sessionStorage; messages live in memory and are shown as text.
//
// Modules: state.js (elements, state, the token), screens.js (which screen, the end), messages.js
// (the conversation log), connection.js (the socket, start and resume), controls.js (buttons,
// composer); this entry loads the configuration and starts.

import { $, el, show } from "/static/shared/dom.js";
import { connect } from "./connection.js";
import { wireControls } from "./controls.js";
import { watchVisibility } from "./messages.js";
import { setStatus } from "./screens.js";
import { state, ui } from "./state.js";

function fillAges() {
  for (let age = 8; age <= 25; age += 1) {
    ui.age.append(el("option", { value: String(age), text: age === 25 ? "25 of ouder" : `${age} jaar` }));
  }
}

async function loadConfig() {
  try {
    const response = await fetch("/api/config", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    const config = await response.json();
    if (Number.isInteger(config.max_text_length)) {
      state.maxLength = config.max_text_length;
      ui.text.maxLength = config.max_text_length;
    }
    for (const topic of config.topics || []) ui.topic.append(el("option", { value: topic, text: topic }));
    if (typeof config.privacy_url === "string" && config.privacy_url) ui.privacyLink.href = config.privacy_url;
  } catch {
    ui.topic.closest(".field").hidden = true;
  }
}

if (window.parent !== window) {
  // Inside a helpline's site (embed.js): offer to fold the chat away; the conversation goes on.
  document.documentElement.classList.add("is-embedded");
  const hide = $("#hide");
  show(hide, true);
  hide.addEventListener("click", () => window.parent.postMessage({ type: "chatserver:hide" }, "*"));
}
watchVisibility();
wireControls();
fillAges();
loadConfig();
if (state.token) {
  setStatus("connecting");
  ui.start.textContent = "Je gesprek wordt hervat…";
  connect();
} else {
  setStatus("welcome");
}
