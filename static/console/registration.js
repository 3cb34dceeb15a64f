// The registration after a conversation has ended: age and topic (from the server's list) for
// the statistics, sent as `register`; then `Sluit gesprek`.

import { el, show, request } from "/static/shared/dom.js";
import { state } from "/static/console/state.js";

export class Registration {
  // `conv` is the ended Conversation; `n` numbers the ids of this form on the page.
  constructor(conv, n) {
    this.conv = conv;
    this.age = el("input", { id: `reg-age-${n}`, type: "number", min: "4", max: "99", inputmode: "numeric" });
    this.topic = el("select", { id: `reg-topic-${n}` });
    this.status = el("p", { class: "registration__status", role: "status" });
    this.form = el("form", { class: "registration__form" },
      el("div", { class: "field" }, el("label", { for: `reg-age-${n}`, text: "Leeftijd" }), this.age),
      el("div", { class: "field" }, el("label", { for: `reg-topic-${n}`, text: "Onderwerp" }), this.topic),
      el("button", { type: "submit", class: "button", text: "Registratie opslaan" }));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.register(); });
    this.closeButton = el("button", { type: "button", class: "button button--quiet", text: "Sluit gesprek", onclick: () => conv.close() });
    this.node = el("section", { class: "registration", hidden: true, "aria-labelledby": `reg-title-${n}` },
      el("h3", { id: `reg-title-${n}`, text: "Registratie" }),
      el("p", { class: "muted", text: "Kort vastleggen voor de statistiek. Alleen leeftijd en onderwerp, geen namen." }),
      this.form, this.status, this.closeButton);
    this.fillTopics();
  }

  // The configured topics, plus the chatter's own choice if the list lacks it.
  fillTopics() {
    const { info } = this.conv;
    const current = this.topic.value || info.topic || "";
    this.topic.replaceChildren(el("option", { value: "", text: "Kies een onderwerp" }));
    const topics = [...(state.config.topics || [])];
    if (info.topic && !topics.includes(info.topic)) topics.push(info.topic);
    for (const topic of topics) this.topic.append(el("option", { value: topic, text: topic }));
    this.topic.value = current;
  }

  // What the chatter told at the start fills the empty fields.
  prefill(info) {
    if (info.age && !this.age.value) this.age.value = info.age;
    if (info.topic && !this.topic.value) this.fillTopics();
  }

  focus() {
    this.age.focus();
  }

  async register() {
    const payload = { conversation_id: this.conv.id };
    if (this.age.value) payload.age = Number(this.age.value);
    if (this.topic.value) payload.topic = this.topic.value;
    const ack = await request(state.socket, "register", payload);
    if (ack.ok) {
      this.status.textContent = "Opgeslagen. Dank je wel! Je kunt dit gesprek nu sluiten.";
      show(this.form, false);
      this.closeButton.classList.replace("button--quiet", "button");
      this.closeButton.focus();
    } else {
      this.status.textContent = ack.error?.message || "Opslaan lukte niet.";
    }
  }
}
