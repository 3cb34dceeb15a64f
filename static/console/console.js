// The volunteer console's entry point: login and logout, and the server's events on /staff
// routed to the conversations, tabs, top bar and overview (docs/pages.md has the module map).

import { $, show } from "/static/shared/dom.js";
import { ApiError } from "/static/shared/api.js";
import { api, state, isSupervisor } from "/static/console/state.js";
import { allowSound, chime, resetTitle } from "/static/console/cues.js";
import { loadConfig, onConfig } from "/static/console/config.js";
import { connect, disconnect } from "/static/console/connection.js";
import { enableAvailability, fillCapacity, setAvailable, setCapacity, setQueue, showUser } from "/static/console/topbar.js";
import { renderTabs, select, selectDefault } from "/static/console/tabs.js";
import { openConversation } from "/static/console/conversation.js";
import { setTimeoutBounds } from "/static/console/dialogs.js";
import { refreshOverview, renderOverviewTab } from "/static/console/overview.js";

const ui = {
  loginView: $("#login-view"),
  loginForm: $("#login-form"),
  username: $("#username"),
  password: $("#password"),
  loginError: $("#login-error"),
  loginSubmit: $("#login-submit"),
  consoleView: $("#console-view"),
  overview: $("#overview"),
  logout: $("#logout"),
};

// ---------------------------------------------------------------- login

function loginError(text) {
  ui.loginError.textContent = text;
  show(ui.loginError, true);
}

ui.loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(ui.loginError, false);
  const username = ui.username.value.trim();
  if (!username || !ui.password.value) {
    loginError("Vul je gebruikersnaam en wachtwoord in.");
    return;
  }
  allowSound(); // inside a click, so that the chime may play later
  ui.loginSubmit.disabled = true;
  try {
    const data = await api.call("POST", "/api/auth/login", { username, password: ui.password.value });
    if (!data?.token) {
      loginError("Inloggen lukte niet. Probeer het opnieuw.");
      return;
    }
    ui.password.value = "";
    api.session.token = data.token;
    state.user = { role: data.role, display_name: data.display_name, username };
    enterConsole();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 0) loginError("De server is niet bereikbaar. Probeer het zo opnieuw.");
    else if (err.status === 401) loginError("Gebruikersnaam of wachtwoord klopt niet.");
    else loginError(err.code.startsWith("http_") ? "Inloggen lukte niet. Probeer het opnieuw." : err.message);
  } finally {
    ui.loginSubmit.disabled = false;
  }
});

ui.logout.addEventListener("click", async () => {
  try { await api.call("POST", "/api/auth/logout"); } catch { /* logging out locally anyway */ }
  leaveConsole("Je bent uitgelogd.");
});

function leaveConsole(message) {
  disconnect();
  api.session.token = null;
  state.user = null;
  for (const conv of state.conversations.values()) conv.destroy();
  state.conversations.clear();
  state.selected = null;
  show(ui.consoleView, false);
  show(ui.loginView, true);
  if (message) loginError(message);
  resetTitle();
  ui.username.focus();
}

function enterConsole() {
  enableAvailability(false); // until the server has said what it knows (the `state` event)
  show(ui.loginView, false);
  show(ui.consoleView, true);
  renderUser();
  loadConfig();
  connect(serverEvents, {
    onLost: () => enableAvailability(false),
    onRefused: () => leaveConsole("Je sessie is verlopen. Log opnieuw in."),
  });
}

function renderUser() {
  showUser(state.user);
  // On a reconnect's `state` the selection stays: so does the overview, for whoever may see it.
  show(ui.overview, state.selected === "overview" && isSupervisor());
  renderOverviewTab();
  renderTabs();
}

onConfig((config) => {
  fillCapacity(config);
  setTimeoutBounds(config);
  for (const conv of state.conversations.values()) conv.registration.fillTopics();
});

// ---------------------------------------------------------------- the server's events

const inConversation = (handler) => (data) => {
  const conv = state.conversations.get(data?.conversation_id);
  if (conv) handler(conv, data);
};

const serverEvents = {
  // Sent on every (re)connect: what the server knows of this staff member.
  state: (data) => {
    if (data?.user) state.user = { ...state.user, ...data.user };
    renderUser();
    enableAvailability(true);
    setAvailable(Boolean(data?.available));
    if (Number.isInteger(data?.capacity) && data.capacity > 0) setCapacity(data.capacity);
    setQueue(data?.waiting);
    for (const info of data?.conversations || []) {
      const conv = openConversation(info, info.status === "ended" ? "ended" : "active");
      conv.loadTranscript();
    }
    for (const conv of state.conversations.values()) if (conv.mode === "monitor") conv.readAlong.restart();
    refreshOverview();
    if (!state.selected) selectDefault();
  },
  assigned: (info) => {
    const conv = openConversation(info, "active");
    chime();
    conv.tab.bumpUnread(true);
    if (!state.selected || state.selected === "overview" || !state.conversations.has(state.selected)) {
      select(conv.id);
    }
  },
  message: inConversation((conv, msg) => {
    if (conv.log.addMessage(msg) && msg.from === "chatter") {
      conv.setTyping(false);
      if (conv.mode !== "monitor") chime();
      conv.tab.bumpUnread();
    }
  }),
  typing: inConversation((conv, data) => conv.setTyping(Boolean(data.typing))),
  redacted: inConversation((conv, data) => conv.log.redacted(data.message_id, data.text)),
  hints: inConversation((conv, data) => conv.log.hints(data.message_id, data.entities)),
  whisper: inConversation((conv, data) => {
    conv.log.addWhisper(data);
    chime();
    conv.tab.bumpUnread();
  }),
  ended: inConversation((conv, data) => conv.ended(data.reason)),
  queue_size: (data) => setQueue(data?.waiting),
  conversations_changed: () => refreshOverview(),
};

// ---------------------------------------------------------------- start-up

if (api.session.token) {
  state.user = { role: "volunteer" }; // until the server's `state` says more
  enterConsole();
} else {
  ui.username.focus();
}
