// Statistieken: totals and Chart.js charts (vendored, /vendor/chart.umd.min.js), each with
// its numbers as a table for screen readers and for reading off exact values.

import { el } from "/static/shared/dom.js";

const charts = [];
const COLORS = ["#0d6b66", "#b5400f", "#5b3b8c", "#1a5fb4", "#6b4a00", "#b3261e"];
const numberFormat = new Intl.NumberFormat("nl-NL", { maximumFractionDigits: 1 });

const fmt = (value) => (value === null || value === undefined ? "–" : numberFormat.format(value));
const minutes = (seconds) => (seconds === null || seconds === undefined ? null : seconds / 60);
const percent = (share) => (share === null || share === undefined ? null : share * 100);

function chartCard(id, title, description, labels, series) {
  const canvas = el("canvas", { id, role: "img", "aria-label": `${title}. ${description}` });
  const head = el("tr", {}, el("th", { scope: "col", text: "" }), series.map((s) => el("th", { scope: "col", text: s.label })));
  const rows = labels.map((label, i) => el("tr", {}, el("th", { scope: "row", text: label }), series.map((s) => el("td", { text: fmt(s.data[i]) }))));
  const table = el("table", { class: "data-table" }, el("caption", { text: title }), el("thead", {}, head), el("tbody", {}, rows));
  return {
    card: el("figure", { class: "chart" },
      el("figcaption", { text: title }),
      el("div", { class: "chart__canvas" }, canvas),
      el("details", {}, el("summary", { text: "Toon als tabel" }), table)),
    canvas,
  };
}

function draw(container, spec) {
  const { card, canvas } = chartCard(spec.id, spec.title, spec.description, spec.labels, spec.series);
  container.append(card);
  if (!window.Chart) return;
  charts.push(new window.Chart(canvas, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.series.map((s, i) => ({
        label: s.label, data: s.data, backgroundColor: COLORS[i % COLORS.length],
        borderColor: COLORS[i % COLORS.length], spanGaps: true,
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      indexAxis: spec.horizontal ? "y" : "x",
      plugins: { legend: { display: spec.series.length > 1 } },
      scales: { y: { beginAtZero: true } },
    },
  }));
}

export function render(data, totalsNode, container) {
  while (charts.length) charts.pop().destroy();
  container.replaceChildren();
  const t = data.totals;
  const items = [
    ["Contacten", fmt(t.contacts)],
    ["Geholpen", fmt(t.helped)],
    ["Weggegaan uit de rij", `${fmt(t.left_queue)} (${fmt(percent(t.left_queue_share))}%)`],
    ["Wachttijd (mediaan)", `${fmt(minutes(t.waiting_seconds.median))} min`],
    ["Wachttijd (90e percentiel)", `${fmt(minutes(t.waiting_seconds.p90))} min`],
    ["Gespreksduur (mediaan)", `${fmt(minutes(t.duration_seconds.median))} min`],
    ["Berichten per gesprek (mediaan)", fmt(t.messages.median)],
  ];
  totalsNode.replaceChildren(...items.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));

  const weeks = data.weeks.map((w) => w.week);
  const topics = Object.keys(t.topics);
  const ages = Object.keys(t.ages);
  const specs = [
    { id: "chart-days", type: "bar", title: "Contacten per dag", description: `${data.since} tot ${data.until}`,
      labels: data.days.map((d) => d.day), series: [{ label: "Contacten", data: data.days.map((d) => d.contacts) }] },
    { id: "chart-hours", type: "bar", title: "Contacten per uur van de dag", description: `Tijdzone ${data.timezone}`,
      labels: data.hours.map((h) => `${String(h.hour).padStart(2, "0")}:00`), series: [{ label: "Contacten", data: data.hours.map((h) => h.contacts) }] },
    { id: "chart-waiting", type: "line", title: "Wachttijd per week (minuten)", description: "Mediaan en 90e percentiel, van start tot koppeling",
      labels: weeks, series: [
        { label: "Mediaan", data: data.weeks.map((w) => minutes(w.waiting_seconds.median)) },
        { label: "90e percentiel", data: data.weeks.map((w) => minutes(w.waiting_seconds.p90)) }] },
    { id: "chart-left", type: "line", title: "Weggegaan uit de rij per week (%)", description: "Deel van de beëindigde gesprekken zonder koppeling",
      labels: weeks, series: [{ label: "Weggegaan", data: data.weeks.map((w) => percent(w.left_queue_share)) }] },
    { id: "chart-length", type: "line", title: "Gespreksduur per week (minuten)", description: "Mediaan van koppeling tot einde",
      labels: weeks, series: [{ label: "Mediaan", data: data.weeks.map((w) => minutes(w.duration_seconds.median)) }] },
    { id: "chart-contacts-week", type: "bar", title: "Contacten per week", description: "Geholpen en weggegaan",
      labels: weeks, series: [
        { label: "Geholpen", data: data.weeks.map((w) => w.helped) },
        { label: "Weggegaan uit de rij", data: data.weeks.map((w) => w.left_queue) }] },
    { id: "chart-topics", type: "bar", horizontal: true, title: "Onderwerpen", description: "Aantal gesprekken per onderwerp",
      labels: topics, series: [{ label: "Gesprekken", data: topics.map((k) => t.topics[k]) }] },
    { id: "chart-ages", type: "bar", title: "Leeftijden", description: "Aantal gesprekken per leeftijd",
      labels: ages, series: [{ label: "Gesprekken", data: ages.map((k) => t.ages[k]) }] },
  ];
  for (const spec of specs) draw(container, spec);
}
