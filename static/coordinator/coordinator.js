// The coordinator page: login, requests of data subjects, audit log, statistics, research
// export and blocks. Text from the server is only ever set with textContent.

import { el, $, formatDate } from "/static/shared/dom.js";
import { apiClient, query, saveBlob, ApiError } from "/static/shared/api.js";
import { render as renderStatistics } from "/static/coordinator/statistics.js";

const { session, call, download } = apiClient({ tokenKey: "coordinator_token" });

const KIND = { access: "Inzage", erasure: "Verwijdering", objection: "Bezwaar" };
const STATUS = { open: "Open", extended: "Verlengd", done: "Afgehandeld", refused: "Afgewezen" };
const ACTION = {
  transcript_read: "Transcript gelezen", monitor: "Meegekeken", whisper: "Gefluisterd",
  flag: "Bericht gemarkeerd", redact_span: "Handmatig weggelakt", timeout: "Time-out",
  block: "Blokkade", block_lifted: "Blokkade opgeheven", timeout_lifted: "Time-out opgeheven",
  account_created: "Account aangemaakt", account_disabled: "Account uitgeschakeld",
  research_export: "Onderzoeksdata gedownload", audit_read: "Auditlog bekeken",
  audit_report: "Auditrapport gemaakt", request_created: "Verzoek geregistreerd",
  request_extended: "Verzoek verlengd", request_access: "Inzage gegeven",
  request_erased: "Gegevens verwijderd", request_closed: "Verzoek afgesloten",
  retention_run: "Bewaartermijn toegepast",
};
const dayFormat = new Intl.DateTimeFormat("nl-NL", { day: "numeric", month: "long", year: "numeric" });
const day = (ts) => (ts ? dayFormat.format(new Date(ts)) : "–");
const today = () => new Date().toISOString().slice(0, 10);

let lastStatistics = null;

function say(message, isError = false) {
  const node = $("#status");
  node.textContent = message;
  node.classList.toggle("notice--error", isError);
  node.hidden = !message;
}

async function attempt(action, success) {
  try {
    const result = await action();
    if (success) say(success);
    return result;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return logout(false);
    say(err.message || "Er ging iets mis.", true);
    return undefined;
  }
}

// -- login ---------------------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  const error = $("#login-error");
  error.hidden = true;
  try {
    const data = await call("POST", "/api/auth/login", {
      username: $("#username").value.trim(), password: $("#password").value,
    });
    if (!["coordinator", "admin"].includes(data.role)) {
      error.textContent = "Deze pagina is alleen voor coördinatoren.";
      error.hidden = false;
      return;
    }
    session.token = data.token;
    $("#password").value = "";
    start(data.display_name);
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
}

async function logout(tell = true) {
  if (tell && session.token) { try { await call("POST", "/api/auth/logout"); } catch { /* gone */ } }
  session.token = null;
  $("#app").hidden = true;
  $("#login-view").hidden = false;
  $("#username").focus();
}

function start(name) {
  $("#who").textContent = name || "";
  $("#login-view").hidden = true;
  $("#app").hidden = false;
  $("#request-received").value = today();
  loadRequests();
  loadAudit();
  loadStatistics();
  loadBlocks();
}

// -- requests ------------------------------------------------------------------------------------

function requestActions(r) {
  const actions = [];
  const closed = Boolean(r.closed_at);
  if (r.kind === "access") {
    actions.push(el("button", { type: "button", class: "button button--small", text: "Inzage downloaden",
      onclick: () => attempt(async () => {
        const data = await call("POST", `/api/privacy/requests/${encodeURIComponent(r.id)}/access`);
        saveBlob(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }), `inzage-${r.id}.json`);
        loadRequests();
      }, "Het inzagebestand is gedownload. Stuur het veilig aan de persoon en sluit het verzoek af.") }));
  }
  if (!closed && r.kind !== "access") {
    actions.push(el("button", { type: "button", class: "button button--small button--danger", text: "Gegevens verwijderen",
      onclick: () => erase(r) }));
  }
  if (!closed && !r.extended_due_at) {
    actions.push(el("button", { type: "button", class: "button button--small button--secondary", text: "Verlengen",
      onclick: () => openExtend(r) }));
  }
  if (!closed) {
    actions.push(el("button", { type: "button", class: "button button--small button--quiet", text: "Afsluiten",
      onclick: () => openClose(r) }));
  }
  return actions;
}

async function loadRequests() {
  const status = $("#request-filter").value;
  const data = await attempt(() => call("GET", `/api/privacy/requests${query({ status })}`));
  if (!data) return;
  const rows = data.requests.map((r) => {
    const deadline = el("td", {}, day(r.deadline));
    if (r.overdue) deadline.append(" ", el("strong", { class: "badge badge--overdue", text: "Te laat" }));
    else if (r.days_left !== null && r.days_left <= 7) deadline.append(" ", el("span", { class: "badge", text: `nog ${r.days_left} d` }));
    if (r.extended_due_at) deadline.append(el("div", { class: "muted small", text: `Verlengd: ${r.extension_reason || ""}` }));
    return el("tr", { class: r.overdue ? "is-overdue" : "" },
      el("td", { text: KIND[r.kind] || r.kind }),
      el("td", { text: day(r.received_at) }),
      deadline,
      el("td", { text: STATUS[r.status] || r.status }),
      el("td", { text: r.conversation_found ? "Gevonden" : "Niet (meer) gevonden" }),
      el("td", { class: "actions" }, requestActions(r)));
  });
  $("#request-rows").replaceChildren(...rows);
  $("#request-empty").hidden = rows.length > 0;
}

async function createRequest(event) {
  event.preventDefault();
  const body = {
    kind: $("#request-kind").value,
    reference: $("#request-reference").value.trim(),
    received_at: $("#request-received").value || undefined,
    note: $("#request-note").value.trim() || undefined,
  };
  const data = await attempt(() => call("POST", "/api/privacy/requests", body), "Het verzoek is geregistreerd.");
  if (!data) return;
  $("#request-reference").value = "";
  $("#request-note").value = "";
  if (!data.request.conversation_found) {
    say("Geregistreerd. Bij deze code is geen gesprek (meer) gevonden: het kan al geanonimiseerd zijn.");
  }
  loadRequests();
}

function confirmDialog(text, withReason = false) {
  const dialog = $("#confirm-dialog");
  $("#confirm-text").textContent = text;
  $("#confirm-reason").value = "";
  $("#confirm-reason-field").hidden = !withReason;
  dialog.showModal();
  return new Promise((resolve) => {
    const done = (value) => { dialog.close(); cleanup(); resolve(value); };
    const ok = (event) => { event.preventDefault(); done({ reason: $("#confirm-reason").value.trim() }); };
    const cancel = () => done(null);
    const cleanup = () => {
      $("#confirm-form").removeEventListener("submit", ok);
      $("#confirm-cancel").removeEventListener("click", cancel);
      dialog.removeEventListener("cancel", cancel);
    };
    $("#confirm-form").addEventListener("submit", ok);
    $("#confirm-cancel").addEventListener("click", cancel);
    dialog.addEventListener("cancel", cancel);
  });
}

async function erase(r) {
  const answer = await confirmDialog("Het gesprek, de berichten en wat eraan vastzit worden definitief verwijderd. Dit kan niet ongedaan worden gemaakt.");
  if (!answer) return;
  const data = await attempt(() => call("POST", `/api/privacy/requests/${encodeURIComponent(r.id)}/erase`, { confirm: true }),
    "De gegevens zijn verwijderd.");
  if (!data) return;
  const e = data.erased;
  const box = $("#request-result");
  box.replaceChildren(
    el("h3", { text: "Verwijderd" }),
    el("p", { text: `Gesprek: ${e.conversation}, berichten: ${e.messages}, contactregels: ${e.contacts}, afgelopen maatregelen: ${e.sanctions}.` }),
    el("h3", { text: "Niet verwijderd (vertel dit de persoon)" }),
    el("ul", {}, data.not_erased.map((line) => el("li", { text: line }))));
  box.hidden = false;
  loadRequests();
}

let current = null;

function openExtend(r) {
  current = r;
  $("#extend-reason").value = "";
  $("#extend-told").checked = false;
  $("#extend-error").hidden = true;
  $("#extend-dialog").showModal();
}

async function submitExtend(event) {
  event.preventDefault();
  try {
    await call("POST", `/api/privacy/requests/${encodeURIComponent(current.id)}/extend`, {
      months: Number($("#extend-months").value), reason: $("#extend-reason").value.trim(),
      person_told: $("#extend-told").checked,
    });
    $("#extend-dialog").close();
    say("De termijn is verlengd.");
    loadRequests();
  } catch (err) {
    $("#extend-error").textContent = err.message;
    $("#extend-error").hidden = false;
  }
}

function openClose(r) {
  current = r;
  $("#close-note").value = "";
  $("#close-error").hidden = true;
  $("#close-dialog").showModal();
}

async function submitClose(event) {
  event.preventDefault();
  try {
    await call("POST", `/api/privacy/requests/${encodeURIComponent(current.id)}/close`, {
      outcome: $("#close-outcome").value, note: $("#close-note").value.trim() || undefined,
    });
    $("#close-dialog").close();
    say("Het verzoek is afgesloten.");
    loadRequests();
  } catch (err) {
    $("#close-error").textContent = err.message;
    $("#close-error").hidden = false;
  }
}

// -- audit log -----------------------------------------------------------------------------------

async function loadAudit(event) {
  if (event) event.preventDefault();
  const data = await attempt(() => call("GET", `/api/privacy/audit${query({
    since: $("#audit-since").value, until: $("#audit-until").value,
    actor: $("#audit-actor").value.trim(), action: $("#audit-action").value,
    conversation_id: $("#audit-conversation").value.trim(),
  })}`));
  if (!data) return;
  const select = $("#audit-action");
  if (select.options.length === 1) {
    for (const action of data.actions) select.append(el("option", { value: action, text: ACTION[action] || action }));
  }
  const rows = data.entries.map((e) => el("tr", {},
    el("td", { text: formatDate(e.at) }),
    el("td", { text: e.actor || "systeem" }),
    el("td", { text: ACTION[e.action] || e.action }),
    el("td", { class: "mono", text: e.conversation_id || "–" }),
    el("td", { class: "mono small", text: e.detail ? JSON.stringify(e.detail) : "" })));
  $("#audit-rows").replaceChildren(...rows);
  $("#audit-empty").hidden = rows.length > 0;
}

// -- statistics ----------------------------------------------------------------------------------

async function loadStatistics(event) {
  if (event) event.preventDefault();
  const data = await attempt(() => call("GET", `/api/privacy/statistics${query({
    since: $("#stats-since").value, until: $("#stats-until").value })}`));
  if (!data) return;
  lastStatistics = data;
  if (!$("#stats-since").value) $("#stats-since").value = data.since;
  renderStatistics(data, $("#stats-totals"), $("#charts"));
}

function statisticsJson() {
  if (!lastStatistics) return;
  saveBlob(new Blob([JSON.stringify(lastStatistics, null, 2)], { type: "application/json" }),
    `statistieken-${lastStatistics.since}-${lastStatistics.until}.json`);
}

// -- research export -----------------------------------------------------------------------------

function exportResearch(event) {
  event.preventDefault();
  const format = $("#export-format").value;
  attempt(() => download("GET", `/api/privacy/research/export${query({
    since: $("#export-since").value, until: $("#export-until").value, format })}`,
  `onderzoeksdata-${today()}.${format}`), "De onderzoeksdata zijn gedownload.");
}

// -- blocks --------------------------------------------------------------------------------------

async function loadBlocks() {
  const data = await attempt(() => call("GET", "/api/moderation/blocks"));
  if (data) {
    const rows = data.blocks.map((b) => el("tr", { class: b.active ? "" : "is-past" },
      el("td", {}, el("div", { text: b.alias || "–" }), el("div", { class: "mono small muted", text: b.conversation_id || "" })),
      el("td", { text: formatDate(b.created_at) }),
      el("td", { text: formatDate(b.until) }),
      el("td", {}, el("div", { text: b.reason || "–" }),
        b.override_reason ? el("div", { class: "small muted", text: `Zonder eerdere time-out: ${b.override_reason}` }) : null,
        b.lift_reason ? el("div", { class: "small muted", text: `Opgeheven: ${b.lift_reason}` }) : null),
      el("td", { text: b.by || "–" }),
      el("td", { text: b.active ? "Actief" : b.lifted_at ? `Opgeheven door ${b.lifted_by || "?"}` : "Verlopen" }),
      el("td", { class: "actions" }, b.active ? el("button", { type: "button", class: "button button--small button--secondary",
        text: "Opheffen", onclick: () => lift(b) }) : null)));
    $("#block-rows").replaceChildren(...rows);
    $("#block-empty").hidden = rows.length > 0;
  }
  const repeat = await attempt(() => call("GET", "/api/moderation/timeouts"));
  if (repeat) {
    const rows = repeat.chatters.map((c) => el("tr", {},
      el("td", { text: c.alias || "–" }),
      el("td", { text: String(c.timeouts) }),
      el("td", { text: formatDate(c.last_timeout_at) }),
      el("td", {}, el("ul", { class: "plain" }, (c.conversations || []).map((v) =>
        el("li", { class: "small", text: `${formatDate(v.at)} · ${v.alias || ""} · ${v.conversation_id}` })))),
      el("td", { class: "actions" }, el("button", { type: "button", class: "button button--small button--danger",
        text: "Blokkeren…", onclick: () => { $("#block-conversation").value = c.conversation_id; $("#block-reason").focus(); } }))));
    $("#timeout-rows").replaceChildren(...rows);
    $("#timeout-empty").hidden = rows.length > 0;
  }
}

async function lift(b) {
  const answer = await confirmDialog(`De blokkade van ${b.alias || "deze chatter"} opheffen?`, true);
  if (!answer) return;
  await attempt(() => call("POST", `/api/moderation/blocks/${encodeURIComponent(b.id)}/lift`,
    answer.reason ? { reason: answer.reason } : {}), "De blokkade is opgeheven.");
  loadBlocks();
}

async function createBlock(event) {
  event.preventDefault();
  const days = Number($("#block-days").value);
  const body = { conversation_id: $("#block-conversation").value.trim() };
  if (days) body.days = days;
  const reason = $("#block-reason").value.trim();
  if (reason) body.reason = reason;
  const override = $("#block-override").value.trim();
  if (override) body.override_reason = override;
  const data = await attempt(() => call("POST", "/api/moderation/blocks", body));
  if (!data) return;
  say(`Geblokkeerd tot ${formatDate(data.until)}.`);
  $("#block-conversation").value = "";
  $("#block-reason").value = "";
  $("#block-override").value = "";
  loadBlocks();
}

// -- wiring --------------------------------------------------------------------------------------

$("#login-form").addEventListener("submit", login);
$("#logout").addEventListener("click", () => logout(true));
$("#request-form").addEventListener("submit", createRequest);
$("#request-filter").addEventListener("change", loadRequests);
$("#extend-form").addEventListener("submit", submitExtend);
$("#extend-cancel").addEventListener("click", () => $("#extend-dialog").close());
$("#close-form").addEventListener("submit", submitClose);
$("#close-cancel").addEventListener("click", () => $("#close-dialog").close());
$("#audit-form").addEventListener("submit", loadAudit);
$("#stats-form").addEventListener("submit", loadStatistics);
$("#stats-json").addEventListener("click", statisticsJson);
$("#export-form").addEventListener("submit", exportResearch);
$("#block-form").addEventListener("submit", createBlock);

if (session.token) {
  call("GET", "/api/me").then((me) => {
    if (["coordinator", "admin"].includes(me.role)) start(me.display_name);
    else logout(false);
  }).catch(() => logout(false));
}
