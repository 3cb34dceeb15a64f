// What draws the volunteer's attention: a short chime, the unread total in the page title, and
// the banner under the top bar (a lost connection, a failed action).

import { $, show } from "/static/shared/dom.js";
import { state } from "/static/console/state.js";

const TITLE = document.title;
const banner = $("#banner");
let audio = null;

// Browsers let an AudioContext play only when it was made in a user gesture: call this in one.
export function allowSound() {
  audio ||= new AudioContext();
}

export function chime() {
  try {
    allowSound();
    if (audio.state === "suspended") audio.resume();
    const now = audio.currentTime;
    for (const [offset, freq] of [[0, 660], [0.16, 880]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.15, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.4);
    }
  } catch { /* sound is a nicety; the title and badges still show it */ }
}

export function updateTitle() {
  let unread = 0;
  for (const conv of state.conversations.values()) unread += conv.tab.unread;
  document.title = unread ? `(${unread}) ${TITLE}` : TITLE;
}

export function resetTitle() {
  document.title = TITLE;
}

export function setBanner(text) {
  banner.textContent = text || "";
  show(banner, Boolean(text));
}
