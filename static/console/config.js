// The server's configuration from GET /api/config: registration topics, limits, and the
// redactor's entity types with their Dutch labels (the server holds the one table of them).

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
  } catch { /* the console still works: topics empty, entity types shown as they are */ }
  for (const listener of listeners) listener(state.config);
  return state.config;
}

// The Dutch name of an entity type ("PERSON" → "naam"), or the type itself when unknown.
export function entityLabel(type) {
  const labels = state.config.entity_labels;
  return (labels && typeof labels[type] === "string" && labels[type]) || type;
}

// The types a volunteer can choose when making a selection unrecognisable, in the server's order.
export function entityTypes() {
  const types = state.config.entity_types;
  return Array.isArray(types) ? types.filter((t) => typeof t === "string") : [];
}
