// The volunteer console: login, availability, conversations as tabs, flagging and redaction,
// registration after the end; for supervisors and up, the list of ongoing chats, monitor and whisper.

import { io } from "/vendor/socket.io.esm.min.js";
import { $, el, show, formatTime, formatDate, request } from "/static/shared/dom.js";

const TOKEN_KEY = "chatserver.staff";
const TITLE = document.title;
const RANK = { volunteer: 1, supervisor: 2, coordinator: 3, admin: 4 };
const ROLE_NAME = { volunteer: "vrijwilliger", supervisor: "supervisor", coordinator: "coördinator", admin: "beheerder" };
const ENTITY_NAME = {
  PERSON: "naam", LOCATION: "plaats", NEIGHBOURHOOD: "wijk", ADDRESS: "adres", POSTCODE: "postcode",
  SCHOOL: "school", SPORTS_CLUB: "sportclub", ORGANIZATION: "organisatie", PHONE_NUMBER: "telefoonnummer",
  EMAIL_ADDRESS: "e-mailadres", SOCIAL_HANDLE: "gebruikersnaam", URL: "url", IBAN: "IBAN", BSN: "BSN",
  LICENSE_PLATE: "kenteken", DATE_OF_BIRTH: "geboortedatum", IP_ADDRESS: "IP-adres",
};
const ENDED_TEXT = {
  chatter: "De jongere heeft het gesprek beëindigd.",
  volunteer: "Het gesprek is beëindigd.",
  timeout: "Het gesprek is beëindigd met een time-out.",
  blocked: "Het gesprek is beëindigd; de jongere is geblokkeerd.",
};

const ui = {
  loginView: $("#login-view"),
  loginForm: $("#login-form"),
  username: $("#username"),
  password: $("#password"),
  loginError: $("#login-error"),
  loginSubmit: $("#login-submit"),
  consoleView: $("#console-view"),
  queueSize: $("#queue-size"),
  capacity: $("#capacity"),
  available: $("#available"),
  userName: $("#user-name"),
  userRole: $("#user-role"),
  logout: $("#logout"),
  banner: $("#banner"),
  tabs: $("#tabs"),
  tabsEmpty: $("#tabs-empty"),
  panels: $("#panels"),
  placeholder: $("#placeholder"),
  overview: $("#overview"),
  overviewRows: $("#overview-rows"),
  overviewEmpty: $("#overview-empty"),
  overviewQueue: $("#overview-queue"),
  timeoutDialog: $("#timeout-dialog"),
  timeoutForm: $("#timeout-form"),
  timeoutMinutes: $("#timeout-minutes"),
  blockDialog: $("#block-dialog"),
  blockForm: $("#block-form"),
  blockDays: $("#block-days"),
  blockReason: $("#block-reason"),
};

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  socket: null,
  user: null,
  available: false,
  config: { topics: [], max_text_length: 4000, timeout_minutes: { default: 30, min: 5, max: 1440 } },
  conversations: new Map(), // conversation_id → Conversation
  selected: null, // conversation_id or "overview"
  audio: null,
};

const isSupervisor = () => (RANK[state.user?.role] || 0) >= RANK.supervisor;
const isCoordinator = () => (RANK[state.user?.role] || 0) >= RANK.coordinator;

// ---------------------------------------------------------------- cues

function chime() {
  try {
    state.audio ||= new AudioContext();
    const ctx = state.audio;
    if (ctx.state === "suspended") ctx.resume();
    const now = ctx.currentTime;
    for (const [offset, freq] of [[0, 660], [0.16, 880]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.15, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.4);
    }
  } catch { /* sound is a nicety; the title and badges still show it */ }
}

function updateTitle() {
  let unread = 0;
  for (const conv of state.conversations.values()) unread += conv.unread;
  document.title = unread ? `(${unread}) ${TITLE}` : TITLE;
}

function setBanner(text) {
  ui.banner.textContent = text || "";
  show(ui.banner, Boolean(text));
}

// ---------------------------------------------------------------- login

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  return { status: response.status, ok: response.ok, data };
}

ui.loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(ui.loginError, false);
  if (!ui.username.value.trim() || !ui.password.value) {
    ui.loginError.textContent = "Vul je gebruikersnaam en wachtwoord in.";
    show(ui.loginError, true);
    return;
  }
  state.audio ||= new AudioContext(); // created inside a click so that it may play later
  ui.loginSubmit.disabled = true;
  try {
    const res = await api("/api/auth/login", {
      method: "POST",
      body: JSON.stringify({ username: ui.username.value.trim(), password: ui.password.value }),
    });
    if (!res.ok || !res.data?.token) {
      ui.loginError.textContent = res.status === 401
        ? "Gebruikersnaam of wachtwoord klopt niet."
        : res.data?.error?.message || "Inloggen lukte niet. Probeer het opnieuw.";
      show(ui.loginError, true);
      return;
    }
    ui.password.value = "";
    state.token = res.data.token;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    state.user = { role: res.data.role, display_name: res.data.display_name, username: ui.username.value.trim() };
    enterConsole();
  } catch {
    ui.loginError.textContent = "De server is niet bereikbaar. Probeer het zo opnieuw.";
    show(ui.loginError, true);
  } finally {
    ui.loginSubmit.disabled = false;
  }
});

ui.logout.addEventListener("click", async () => {
  try { await api("/api/auth/logout", { method: "POST" }); } catch { /* logging out locally anyway */ }
  leaveConsole("Je bent uitgelogd.");
});

function leaveConsole(message) {
  state.socket?.disconnect();
  state.socket = null;
  state.token = null;
  state.user = null;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const conv of state.conversations.values()) conv.destroy();
  state.conversations.clear();
  state.selected = null;
  show(ui.consoleView, false);
  show(ui.loginView, true);
  if (message) {
    ui.loginError.textContent = message;
    show(ui.loginError, true);
  }
  document.title = TITLE;
  ui.username.focus();
}

function enterConsole() {
  ui.available.disabled = true; // until the server has said what it knows (the `state` event)
  show(ui.loginView, false);
  show(ui.consoleView, true);
  renderUser();
  loadConfig();
  connect();
}

function renderUser() {
  ui.userName.textContent = state.user?.display_name || state.user?.username || "";
  ui.userRole.textContent = ROLE_NAME[state.user?.role] || state.user?.role || "";
  show(ui.overview, false);
  renderTabs();
}

async function loadConfig() {
  const res = await api("/api/config").catch(() => null);
  if (res?.ok && res.data) state.config = { ...state.config, ...res.data };
  const max = Number.isInteger(state.config.max_capacity) ? state.config.max_capacity : 4;
  const chosen = ui.capacity.value;
  ui.capacity.replaceChildren(...Array.from({ length: Math.max(1, max) }, (_, i) =>
    el("option", { value: String(i + 1), text: i === 0 ? "1 gesprek" : `${i + 1} gesprekken` })));
  ui.capacity.value = Number(chosen) <= max ? chosen : "1";
  const t = state.config.timeout_minutes || {};
  if (t.min) ui.timeoutMinutes.min = t.min;
  if (t.max) ui.timeoutMinutes.max = t.max;
  if (t.default) ui.timeoutMinutes.value = t.default;
  for (const conv of state.conversations.values()) conv.fillTopics();
}

// ---------------------------------------------------------------- the connection

function connect() {
  const socket = io("/staff", {
    path: "/socket.io/",
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    auth: (cb) => cb({ token: state.token }),
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
  });
  state.socket = socket;

  socket.on("connect", () => setBanner(""));
  socket.on("disconnect", (reason) => {
    if (state.socket !== socket) return;
    ui.available.disabled = true;
    setBanner("Verbinding met de server kwijt. Opnieuw verbinden…");
    if (reason === "io server disconnect") setTimeout(() => state.socket === socket && socket.connect(), 2000);
  });
  socket.on("connect_error", (err) => {
    if (state.socket !== socket) return;
    if (err?.data?.code === "unauthorized" || err?.data?.code === "forbidden") {
      leaveConsole("Je sessie is verlopen. Log opnieuw in.");
      return;
    }
    setBanner("Verbinding met de server kwijt. Opnieuw verbinden…");
    if (!socket.active) setTimeout(() => state.socket === socket && socket.connect(), 3000);
  });

  socket.on("state", (data) => {
    if (data?.user) state.user = { ...state.user, ...data.user };
    renderUser();
    ui.available.disabled = false;
    setAvailable(Boolean(data?.available));
    if (Number.isInteger(data?.capacity) && data.capacity > 0) setCapacity(data.capacity);
    setQueue(data?.waiting);
    for (const info of data?.conversations || []) {
      const conv = ensureConversation(info, info.status === "ended" ? "ended" : "active");
      conv.loadTranscript();
    }
    for (const conv of state.conversations.values()) if (conv.mode === "monitor") conv.remonitor();
    if (isSupervisor()) refreshOverview();
    if (!state.selected) select(isSupervisor() ? "overview" : firstConversationId());
  });

  socket.on("assigned", (info) => {
    const conv = ensureConversation(info, "active");
    chime();
    conv.bumpUnread(true);
    if (!state.selected || state.selected === "overview" || !state.conversations.has(state.selected)) {
      select(conv.id);
    }
  });

  socket.on("message", (msg) => {
    const conv = state.conversations.get(msg?.conversation_id);
    if (!conv) return;
    if (conv.addMessage(msg) && msg.from === "chatter") {
      conv.setTyping(false);
      if (conv.mode !== "monitor") chime();
      conv.bumpUnread();
    }
  });
  socket.on("typing", (data) => state.conversations.get(data?.conversation_id)?.setTyping(Boolean(data.typing)));
  socket.on("redacted", (data) => state.conversations.get(data?.conversation_id)?.redacted(data.message_id, data.text));
  socket.on("hints", (data) => state.conversations.get(data?.conversation_id)?.hints(data.message_id, data.entities));
  socket.on("whisper", (data) => {
    const conv = state.conversations.get(data?.conversation_id);
    if (!conv) return;
    conv.addWhisper(data);
    chime();
    conv.bumpUnread();
  });
  socket.on("ended", (data) => state.conversations.get(data?.conversation_id)?.ended(data.reason));
  socket.on("queue_size", (data) => setQueue(data?.waiting));
  socket.on("conversations_changed", () => { if (isSupervisor()) refreshOverview(); });
}

function setQueue(waiting) {
  if (!Number.isInteger(waiting)) return;
  const text = waiting === 1 ? "1 jongere wacht" : `${waiting} jongeren wachten`;
  ui.queueSize.textContent = `In de rij: ${waiting}`;
  ui.queueSize.classList.toggle("bar__queue--busy", waiting > 0);
  ui.overviewQueue.textContent = waiting ? text : "Niemand in de rij";
}

// ---------------------------------------------------------------- availability

function setAvailable(on) {
  state.available = on;
  ui.available.setAttribute("aria-pressed", on ? "true" : "false");
  ui.available.title = on ? "Je ontvangt nieuwe chats. Klik om te pauzeren." : "Je ontvangt geen nieuwe chats.";
}

function setCapacity(capacity) {
  if (![...ui.capacity.options].some((o) => o.value === String(capacity))) {
    ui.capacity.append(el("option", { value: String(capacity), text: `${capacity} gesprekken` }));
  }
  ui.capacity.value = String(capacity);
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

// ---------------------------------------------------------------- tabs

function firstConversationId() {
  const first = state.conversations.keys().next();
  return first.done ? null : first.value;
}

function select(id) {
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

function renderTabs() {
  let overviewTab = $("#tab-overview");
  if (isSupervisor() && !overviewTab) {
    overviewTab = el("button", {
      type: "button", role: "tab", id: "tab-overview", class: "tab tab--overview",
      "aria-controls": "overview", "aria-selected": "false",
      onclick: () => { select("overview"); refreshOverview(); },
    }, el("span", { class: "tab__name", text: "Overzicht" }), el("span", { class: "tab__sub", text: "alle lopende gesprekken" }));
    ui.tabs.prepend(overviewTab);
    ui.overview.setAttribute("role", "tabpanel");
    ui.overview.setAttribute("aria-labelledby", "tab-overview");
  }
  if (!isSupervisor() && overviewTab) overviewTab.remove();
  show(ui.tabsEmpty, state.conversations.size === 0);
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

function ensureConversation(info, status, mode = "own") {
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

// ---------------------------------------------------------------- one conversation

let panelCounter = 0;

class Conversation {
  constructor(info, mode) {
    this.id = info.conversation_id;
    this.info = { ...info };
    this.mode = mode; // own | monitor
    this.status = "active";
    this.unread = 0;
    this.messages = new Map(); // id → node
    this.pending = [];
    this.hintsFor = new Map(); // message id → entities
    this.typingSent = false;
    this.typingTimer = null;
    this.registered = false;
    this.n = ++panelCounter;
    this.build();
  }

  build() {
    const n = this.n;
    this.tabName = el("span", { class: "tab__name" });
    this.tabSub = el("span", { class: "tab__sub" });
    this.badge = el("span", { class: "badge", hidden: true });
    this.tab = el("button", {
      type: "button", role: "tab", id: `tab-${n}`, class: "tab", "aria-controls": `panel-${n}`,
      "aria-selected": "false", tabindex: "-1", onclick: () => select(this.id),
    }, el("span", { class: "tab__line" }, this.tabName, this.badge), this.tabSub);
    ui.tabs.append(this.tab);

    this.title = el("h2", { class: "conv__title", id: `conv-title-${n}` });
    this.facts = el("p", { class: "conv__facts" });
    this.modeNote = el("p", { class: "conv__mode", hidden: true });
    this.timeoutButton = el("button", { type: "button", class: "button button--quiet button--small", text: "Time-out", onclick: () => this.askTimeout() });
    this.blockButton = el("button", { type: "button", class: "button button--quiet button--small", text: "Blokkeren", hidden: !isCoordinator(), onclick: () => this.askBlock() });
    this.endButton = el("button", { type: "button", class: "button button--danger button--small", text: "Gesprek beëindigen", onclick: () => this.end() });
    this.unmonitorButton = el("button", { type: "button", class: "button button--quiet button--small", text: "Stop meelezen", hidden: true, onclick: () => this.unmonitor() });
    this.actions = el("div", { class: "conv__actions" }, this.unmonitorButton, this.timeoutButton, this.blockButton, this.endButton);
    const head = el("header", { class: "conv__head" }, el("div", { class: "conv__who" }, this.title, this.facts, this.modeNote), this.actions);

    this.log = el("div", { class: "log conv__log", role: "log", "aria-live": "polite", "aria-labelledby": `conv-title-${n}`, tabindex: "0" });
    this.typing = el("div", { class: "typing conv__typing", "aria-live": "polite" });

    this.text = el("textarea", { id: `composer-${n}`, rows: "2", maxlength: String(state.config.max_text_length || 4000), "aria-label": "Bericht", placeholder: "Schrijf een bericht… (Enter verstuurt, Shift+Enter voor een nieuwe regel)" });
    this.composer = el("form", { class: "conv__composer" }, this.text, el("button", { type: "submit", class: "button", text: "Verstuur" }));
    this.composer.addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.text.addEventListener("input", () => this.typingInput());

    this.whisperText = el("textarea", { rows: "2", "aria-label": "Fluistering aan de vrijwilliger", placeholder: "Fluister de vrijwilliger een tip toe (de jongere ziet dit niet)" });
    this.whisperForm = el("form", { class: "conv__whisper", hidden: true }, this.whisperText, el("button", { type: "submit", class: "button button--whisper", text: "Fluister" }));
    this.whisperForm.addEventListener("submit", (event) => { event.preventDefault(); this.whisper(); });

    this.buildRegistration();
    this.panel = el("section", {
      class: "conv card", role: "tabpanel", id: `panel-${n}`, "aria-labelledby": `tab-${n}`, hidden: true,
    }, head, this.log, this.typing, this.composer, this.whisperForm, this.registration);
    ui.panels.append(this.panel);
    this.update(this.info);
    this.setMode(this.mode);
  }

  buildRegistration() {
    const n = this.n;
    this.regAge = el("input", { id: `reg-age-${n}`, type: "number", min: "4", max: "99", inputmode: "numeric" });
    this.regTopic = el("select", { id: `reg-topic-${n}` });
    this.regStatus = el("p", { class: "registration__status", role: "status" });
    this.regForm = el("form", { class: "registration__form" },
      el("div", { class: "field" }, el("label", { for: `reg-age-${n}`, text: "Leeftijd" }), this.regAge),
      el("div", { class: "field" }, el("label", { for: `reg-topic-${n}`, text: "Onderwerp" }), this.regTopic),
      el("button", { type: "submit", class: "button", text: "Registratie opslaan" }));
    this.regForm.addEventListener("submit", (event) => { event.preventDefault(); this.register(); });
    this.closeButton = el("button", { type: "button", class: "button button--quiet", text: "Sluit gesprek", onclick: () => this.close() });
    this.registration = el("section", { class: "registration", hidden: true, "aria-labelledby": `reg-title-${n}` },
      el("h3", { id: `reg-title-${n}`, text: "Registratie" }),
      el("p", { class: "muted", text: "Kort vastleggen voor de statistiek. Alleen leeftijd en onderwerp, geen namen." }),
      this.regForm, this.regStatus, this.closeButton);
    this.fillTopics();
  }

  fillTopics() {
    const current = this.regTopic.value || this.info.topic || "";
    this.regTopic.replaceChildren(el("option", { value: "", text: "Kies een onderwerp" }));
    const topics = [...(state.config.topics || [])];
    if (this.info.topic && !topics.includes(this.info.topic)) topics.push(this.info.topic);
    for (const topic of topics) this.regTopic.append(el("option", { value: topic, text: topic }));
    this.regTopic.value = current;
  }

  update(info) {
    Object.assign(this.info, Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined && v !== null)));
    const alias = this.info.chatter || "Jongere";
    this.title.textContent = alias;
    this.tabName.textContent = alias;
    const facts = [contactText(this.info.contact_count)];
    if (this.info.age) facts.push(`${this.info.age} jaar`);
    if (this.info.topic) facts.push(this.info.topic);
    if (this.info.started_at) facts.push(`gestart ${formatTime(this.info.started_at)}`);
    if (this.mode === "monitor" && this.info.volunteer) facts.push(`met ${this.info.volunteer}`);
    this.facts.textContent = facts.filter(Boolean).join(" · ");
    if (this.info.age && !this.regAge.value) this.regAge.value = this.info.age;
    if (this.info.topic && !this.regTopic.value) this.fillTopics();
    this.renderTabSub();
  }

  renderTabSub() {
    let sub = this.status === "ended" ? "beëindigd" : contactText(this.info.contact_count);
    if (this.mode === "monitor") sub = `meelezen${this.info.volunteer ? ` · ${this.info.volunteer}` : ""}`;
    if (this.status === "ended" && this.mode === "monitor") sub = "beëindigd · meelezen";
    this.tabSub.textContent = sub;
    this.tab.classList.toggle("tab--ended", this.status === "ended");
    this.tab.classList.toggle("tab--monitor", this.mode === "monitor");
  }

  setMode(mode) {
    this.mode = mode;
    const monitor = mode === "monitor";
    show(this.whisperForm, monitor && this.status !== "ended");
    show(this.unmonitorButton, monitor);
    this.modeNote.textContent = monitor ? "Je leest mee. De jongere ziet jou niet; je fluistering ziet alleen de vrijwilliger." : "";
    show(this.modeNote, monitor);
    this.setStatus(this.status);
    this.update({});
  }

  setStatus(status) {
    this.status = status;
    const ended = status === "ended";
    const own = this.mode === "own";
    show(this.composer, own && !ended);
    show(this.whisperForm, !own && !ended);
    show(this.timeoutButton, !ended);
    show(this.endButton, !ended);
    show(this.blockButton, !ended && isCoordinator());
    show(this.registration, ended && own);
    if (ended) this.typing.textContent = "";
    this.renderTabSub();
  }

  setSelected(selected) {
    this.tab.setAttribute("aria-selected", selected ? "true" : "false");
    this.tab.tabIndex = selected ? 0 : -1;
    show(this.panel, selected);
    if (selected) {
      this.unread = 0;
      this.renderBadge();
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  bumpUnread(force = false) {
    if (!force && state.selected === this.id && !document.hidden) return;
    this.unread += 1;
    this.renderBadge();
    updateTitle();
  }

  renderBadge() {
    this.badge.textContent = this.unread ? String(this.unread) : "";
    this.badge.setAttribute("aria-label", `${this.unread} ongelezen`);
    show(this.badge, this.unread > 0);
  }

  async loadTranscript() {
    const res = await api(`/api/conversations/${encodeURIComponent(this.id)}/transcript`).catch(() => null);
    if (!res?.ok) return;
    for (const msg of res.data?.messages || []) this.addMessage({ ...msg, conversation_id: this.id });
  }

  // Returns true when the message is new to this view.
  addMessage(msg) {
    if (!msg || typeof msg.id !== "string") return false;
    const known = this.messages.get(msg.id);
    if (known) {
      if (msg.redacted) this.setMessageText(known, msg.text, true);
      return false;
    }
    if (msg.from === "volunteer" && this.mode === "own") {
      const index = this.pending.findIndex((p) => p.text === msg.text && !p.id);
      if (index >= 0) {
        const item = this.pending.splice(index, 1)[0];
        this.confirmOwn(item, msg.id, msg.ts);
        return false;
      }
    }
    const node = this.messageNode(msg);
    this.messages.set(msg.id, node);
    this.insert(node, msg.ts);
    const pendingHints = this.hintsFor.get(msg.id);
    if (pendingHints) this.applyHints(node, pendingHints);
    return true;
  }

  insert(node, ts) {
    // Keep the transcript in time order even when a resync delivers older messages late.
    node.dataset.ts = ts || "";
    const after = [...this.log.children].find((child) => child.dataset.ts && ts && child.dataset.ts > ts);
    if (after) this.log.insertBefore(node, after);
    else this.log.append(node);
    this.log.scrollTop = this.log.scrollHeight;
  }

  messageNode(msg) {
    const fromChatter = msg.from === "chatter";
    const own = msg.from === "volunteer" && this.mode === "own";
    const who = fromChatter ? (this.info.chatter || "Jongere") : (own ? "Jij" : (this.info.volunteer || "Vrijwilliger"));
    const textNode = el("div", { class: "msg__bubble msg__text" });
    const meta = el("div", { class: "msg__meta" }, el("span", { class: "msg__who", text: who }), ` · ${formatTime(msg.ts)}`);
    const node = el("div", { class: `msg ${fromChatter ? "msg--other" : "msg--own"} ${!fromChatter && !own ? "msg--colleague" : ""}` }, textNode, meta);
    node.dataset.id = msg.id;
    this.setMessageText(node, String(msg.text ?? ""), Boolean(msg.redacted));
    if (fromChatter) {
      const flag = el("button", {
        type: "button", class: "msg__flag", text: "Markeer als identificerend",
        title: "Laat de herkenbare gegevens in dit bericht vervangen door een aanduiding zoals [NAAM]",
        onclick: () => this.flag(msg.id, flag),
      });
      meta.append(" ", flag);
      textNode.addEventListener("mouseup", () => this.offerRedaction(node));
      textNode.addEventListener("keyup", () => this.offerRedaction(node));
    }
    return node;
  }

  setMessageText(node, text, redacted) {
    const textNode = node.querySelector(".msg__text");
    textNode.replaceChildren();
    // Placeholders such as [NAAM] are set apart so the volunteer sees at a glance what was removed.
    const parts = text.split(/(\[[A-Z\-]{2,20}\])/);
    for (const part of parts) {
      if (/^\[[A-Z\-]{2,20}\]$/.test(part) && redacted) textNode.append(el("span", { class: "placeholder-token", text: part }));
      else if (part) textNode.append(document.createTextNode(part));
    }
    node.dataset.text = text;
    if (redacted) {
      node.classList.add("msg--redacted");
      if (!node.querySelector(".msg__redacted")) {
        node.querySelector(".msg__meta").prepend(el("span", { class: "msg__redacted", text: "geanonimiseerd" }), " ");
      }
      this.hintsFor.delete(node.dataset.id);
      node.querySelector(".msg__hints-note")?.remove();
    }
  }

  hints(messageId, entities) {
    if (!Array.isArray(entities) || !entities.length) return;
    this.hintsFor.set(messageId, entities);
    const node = this.messages.get(messageId);
    if (node) this.applyHints(node, entities);
  }

  applyHints(node, entities) {
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
      const kind = ENTITY_NAME[span.type] || span.type;
      textNode.append(el("mark", { class: "hint", title: `Mogelijk herkenbaar: ${kind}`, text: text.slice(span.start, span.end) }));
      at = span.end;
    }
    if (at < text.length) textNode.append(document.createTextNode(text.slice(at)));
    node.classList.add("msg--hinted");
    // For screen readers, outside the text itself (so the text stays exactly as it was written).
    const kinds = [...new Set(spans.map((e) => ENTITY_NAME[e.type] || e.type))];
    node.querySelector(".msg__hints-note")?.remove();
    node.querySelector(".msg__meta").append(el("span", {
      class: "visually-hidden msg__hints-note", text: ` Mogelijk herkenbaar: ${kinds.join(", ")}.`,
    }));
    const flag = node.querySelector(".msg__flag");
    if (flag) flag.classList.add("msg__flag--suggested");
  }

  async flag(messageId, button) {
    button.disabled = true;
    const old = button.textContent;
    button.textContent = "Bezig…";
    button.setAttribute("aria-label", "Markeer als identificerend");
    const ack = await request(state.socket, "flag", { conversation_id: this.id, message_id: messageId }, 30000);
    button.disabled = false;
    button.textContent = old;
    if (ack.ok) {
      const node = this.messages.get(messageId);
      if (node && typeof ack.text === "string") this.setMessageText(node, ack.text, true);
    } else if (ack.error?.code === "redactor_unavailable") {
      this.note("De automatische herkenning werkt nu niet. Selecteer de gegevens in het bericht en maak ze zelf onherkenbaar.");
    } else {
      this.note(ack.error?.message || "Markeren lukte niet.");
    }
  }

  // Manual redaction: select part of a chatter message, choose what it is, replace it.
  offerRedaction(node) {
    const selection = window.getSelection();
    const textNode = node.querySelector(".msg__text");
    node.querySelector(".redact")?.remove();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return;
    const range = selection.getRangeAt(0);
    if (!textNode.contains(range.startContainer) || !textNode.contains(range.endContainer)) return;
    const start = offsetIn(textNode, range.startContainer, range.startOffset);
    const end = offsetIn(textNode, range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return;
    const type = el("select", { "aria-label": "Soort gegeven" },
      Object.entries(ENTITY_NAME).map(([value, name]) => el("option", { value, text: name })));
    const bar = el("div", { class: "redact" },
      el("span", { text: `“${(node.dataset.text || "").slice(start, end)}” onherkenbaar maken als` }), type,
      el("button", {
        type: "button", class: "button button--small", text: "Maak onherkenbaar",
        onclick: async () => {
          const ack = await request(state.socket, "redact_span", { conversation_id: this.id, message_id: node.dataset.id, start, end, type: type.value });
          bar.remove();
          if (ack.ok && typeof ack.text === "string") this.setMessageText(node, ack.text, true);
          else this.note(ack.error?.message || "Onherkenbaar maken lukte niet.");
        },
      }),
      el("button", { type: "button", class: "button button--quiet button--small", text: "Annuleer", onclick: () => bar.remove() }));
    node.append(bar);
  }

  redacted(messageId, text) {
    const node = this.messages.get(messageId);
    if (node && typeof text === "string") this.setMessageText(node, text, true);
  }

  addWhisper(data) {
    const node = el("div", { class: "whisper", role: "note" },
      el("div", { class: "whisper__head" },
        el("span", { class: "whisper__label", text: "Fluistering" }),
        ` van ${data.from || "supervisor"} · ${formatTime(data.ts)} · alleen voor de vrijwilliger`),
      el("div", { class: "whisper__text", text: String(data.text ?? "") }));
    this.insert(node, data.ts);
  }

  note(text) {
    this.insert(el("p", { class: "system-note", text }), new Date().toISOString());
  }

  setTyping(on) {
    this.typing.textContent = on && this.status !== "ended" ? `${this.info.chatter || "De jongere"} is aan het typen…` : "";
  }

  typingInput() {
    if (!state.socket?.connected || this.mode !== "own") return;
    if (!this.typingSent && this.text.value.trim()) {
      this.typingSent = true;
      state.socket.emit("typing", { conversation_id: this.id, typing: true }, () => {});
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), 4000);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingSent && state.socket?.connected) {
      state.socket.emit("typing", { conversation_id: this.id, typing: false }, () => {});
    }
    this.typingSent = false;
  }

  async send(retryItem = null) {
    const text = retryItem ? retryItem.text : this.text.value;
    if (!text.trim()) return;
    let item = retryItem;
    if (!item) {
      this.text.value = "";
      this.stopTyping();
      const node = this.messageNode({ id: "", from: "volunteer", text, ts: new Date().toISOString() });
      node.classList.add("msg--sending");
      item = { text, node, id: null };
      this.pending.push(item);
      this.insert(node, "~"); // after everything until confirmed
      this.setMeta(item, "Versturen…");
    }
    item.node.classList.remove("msg--failed");
    const ack = await request(state.socket, "message", { conversation_id: this.id, text });
    if (ack.ok) {
      this.pending = this.pending.filter((p) => p !== item);
      if (this.messages.has(ack.id)) { item.node.remove(); return; }
      this.confirmOwn(item, ack.id, ack.ts);
    } else {
      item.node.classList.add("msg--failed");
      this.setMeta(item, ack.error?.message || "Niet verstuurd.");
      item.node.querySelector(".msg__meta").append(" ", el("button", {
        type: "button", class: "msg__retry", text: "Opnieuw proberen", onclick: () => this.send(item),
      }));
    }
  }

  confirmOwn(item, id, ts) {
    item.id = id;
    item.node.dataset.id = id;
    item.node.dataset.ts = ts || "";
    item.node.classList.remove("msg--sending", "msg--failed");
    this.messages.set(id, item.node);
    this.setMeta(item, `Verstuurd · ${formatTime(ts)}`);
  }

  setMeta(item, text) {
    const meta = item.node.querySelector(".msg__meta");
    meta.replaceChildren(el("span", { class: "msg__who", text: "Jij" }), ` · ${text}`);
  }

  async end() {
    this.endButton.disabled = true;
    const ack = await request(state.socket, "end", { conversation_id: this.id });
    this.endButton.disabled = false;
    if (ack.ok) this.ended("volunteer");
    else this.note(ack.error?.message || "Beëindigen lukte niet.");
  }

  askTimeout() {
    openDialog(ui.timeoutDialog, ui.timeoutForm, async () => {
      const minutes = Number(ui.timeoutMinutes.value);
      const ack = await request(state.socket, "timeout", { conversation_id: this.id, minutes });
      if (ack.ok) {
        this.note(`Time-out gegeven tot ${formatDate(ack.until)}.`);
        this.ended("timeout");
      } else this.note(ack.error?.message || "Time-out geven lukte niet.");
    });
  }

  askBlock() {
    openDialog(ui.blockDialog, ui.blockForm, async () => {
      const payload = { conversation_id: this.id, days: Number(ui.blockDays.value) };
      if (ui.blockReason.value.trim()) payload.reason = ui.blockReason.value.trim();
      const ack = await request(state.socket, "block", payload);
      if (ack.ok) {
        this.note(`Geblokkeerd tot ${formatDate(ack.until)}.`);
        this.ended("blocked");
      } else this.note(ack.error?.message || "Blokkeren lukte niet.");
    });
  }

  ended(reason) {
    if (this.status === "ended") return;
    this.note(ENDED_TEXT[reason] || "Het gesprek is beëindigd.");
    this.setStatus("ended");
    this.stopTyping();
    if (this.mode === "own" && state.selected === this.id) this.regAge.focus();
  }

  async register() {
    const payload = { conversation_id: this.id };
    if (this.regAge.value) payload.age = Number(this.regAge.value);
    if (this.regTopic.value) payload.topic = this.regTopic.value;
    const ack = await request(state.socket, "register", payload);
    if (ack.ok) {
      this.registered = true;
      this.regStatus.textContent = "Opgeslagen. Dank je wel! Je kunt dit gesprek nu sluiten.";
      show(this.regForm, false);
      this.closeButton.classList.replace("button--quiet", "button");
      this.closeButton.focus();
    } else {
      this.regStatus.textContent = ack.error?.message || "Opslaan lukte niet.";
    }
  }

  async monitor() {
    const ack = await request(state.socket, "monitor", { conversation_id: this.id });
    if (!ack.ok) {
      this.note(ack.error?.message || "Meelezen lukte niet.");
      return;
    }
    for (const msg of ack.messages || []) this.addMessage({ ...msg, conversation_id: this.id });
  }

  remonitor() {
    if (this.status !== "ended") this.monitor();
  }

  async unmonitor() {
    await request(state.socket, "unmonitor", { conversation_id: this.id });
    this.close();
  }

  async whisper() {
    const text = this.whisperText.value;
    if (!text.trim()) return;
    const ack = await request(state.socket, "whisper", { conversation_id: this.id, text });
    if (ack.ok) {
      this.whisperText.value = "";
      this.addWhisper({ from: "jou", text, ts: new Date().toISOString() });
    } else this.note(ack.error?.message || "Fluisteren lukte niet.");
  }

  close() {
    if (this.mode === "monitor" && this.status !== "ended" && state.socket?.connected) {
      state.socket.emit("unmonitor", { conversation_id: this.id }, () => {});
    }
    this.destroy();
    state.conversations.delete(this.id);
    renderTabs();
    if (state.selected === this.id) select(isSupervisor() ? "overview" : firstConversationId());
    updateTitle();
  }

  destroy() {
    this.stopTyping();
    this.tab.remove();
    this.panel.remove();
  }
}

function contactText(count) {
  if (!Number.isInteger(count)) return "";
  return count <= 0 ? "eerste contact" : `${count + 1}e contact`;
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

function openDialog(dialog, form, onConfirm) {
  const cancel = dialog.querySelector("button[type=button]");
  const onSubmit = async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    dialog.close();
    await onConfirm();
  };
  const cleanup = () => {
    form.removeEventListener("submit", onSubmit);
    cancel.removeEventListener("click", onCancel);
  };
  const onCancel = () => dialog.close();
  form.addEventListener("submit", onSubmit);
  cancel.addEventListener("click", onCancel);
  dialog.addEventListener("close", cleanup, { once: true });
  dialog.showModal();
}

// ---------------------------------------------------------------- supervisor overview

async function refreshOverview() {
  if (!state.socket?.connected) return;
  const ack = await request(state.socket, "list_conversations", {});
  if (!ack.ok) return;
  setQueue(ack.waiting);
  const rows = (ack.conversations || []).filter((c) => c.status !== "ended");
  ui.overviewRows.replaceChildren(...rows.map((c) => {
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
  show(ui.overviewEmpty, rows.length === 0);
}

async function openMonitor(info) {
  let conv = state.conversations.get(info.conversation_id);
  if (!conv) {
    conv = ensureConversation(info, info.status === "ended" ? "ended" : "active", "monitor");
    await conv.monitor();
  }
  select(conv.id);
}

// ---------------------------------------------------------------- start-up

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.selected) {
    const conv = state.conversations.get(state.selected);
    if (conv) {
      conv.unread = 0;
      conv.renderBadge();
      updateTitle();
    }
  }
});

if (state.token) {
  state.user = { role: "volunteer" };
  enterConsole();
} else {
  ui.username.focus();
}
