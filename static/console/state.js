// What the console's modules share: the API client, the socket, the signed-in staff member,
// the server's configuration and the open conversations.

import { apiClient } from "/static/shared/api.js";

// The console also keeps the session cookie the login sets (hence same-origin credentials).
export const api = apiClient({ tokenKey: "chatserver.staff", credentials: "same-origin" });

const RANK = { volunteer: 1, supervisor: 2, coordinator: 3, admin: 4 };

export const state = {
  socket: null,
  user: null,
  available: false,
  // Until /api/config has answered: no topics and no entity types (labels fall back to the type).
  config: {
    topics: [], entity_types: [], entity_labels: {}, max_text_length: 4000,
    timeout_minutes: { default: 30, min: 5, max: 1440 },
  },
  conversations: new Map(), // conversation_id → Conversation
  selected: null, // conversation_id or "overview"
};

export const isSupervisor = () => (RANK[state.user?.role] || 0) >= RANK.supervisor;
export const isCoordinator = () => (RANK[state.user?.role] || 0) >= RANK.coordinator;
