// The server's configuration from GET /api/config: registration topics, capacity and
// time-out limits.

import { api, state } from "/static/console/state.js";

const listeners = [];

// `listener(config)` runs after every load, also a failed one (with the defaults).
export function onConfig(listener) {
  listeners.push(listener);
}

// Merges the server's answer into state.config; on failure the defaults stay.
export async function loadConfig() {
  try {
    const data = await api.call("GET", "/api/config");
    if (data) state.config = { ...state.config, ...data };
  } catch { /* the console still works with the defaults */ }
  for (const listener of listeners) listener(state.config);
  return state.config;
}
