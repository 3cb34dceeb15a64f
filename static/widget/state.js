// The widget's state: the elements it works with, what it knows of the conversation, and the
// resume token (the only thing kept, in sessionStorage).

import { $ } from "/static/shared/dom.js";

const TOKEN_KEY = "chatserver.resume";
export const TITLE = document.title;

// sessionStorage when the browser allows it; inside another site's iframe with third-party
// storage blocked it throws, and then the token lives in memory only (a reload starts afresh).
export const tokenStore = (() => {
  let memory = null;
  const storage = () => {
    try { return window.sessionStorage; } catch { return null; }
  };
  return {
    get() {
      try { return storage()?.getItem(TOKEN_KEY) ?? memory; } catch { return memory; }
    },
    set(value) {
      memory = value;
      try {
        if (value) storage()?.setItem(TOKEN_KEY, value);
        else storage()?.removeItem(TOKEN_KEY);
      } catch { /* memory only */ }
    },
  };
})();

export const ui = {
  app: $("#app"),
  banner: $("#connection-banner"),
  screens: {
    welcome: $("#screen-welcome"),
    chat: $("#screen-chat"),
    ended: $("#screen-ended"),
    refused: $("#screen-refused"),
  },
  start: $("#start"),
  startError: $("#start-error"),
  age: $("#start-age"),
  topic: $("#start-topic"),
  chatTitle: $("#chat-title"),
  chatSub: $("#chat-sub"),
  waiting: $("#waiting"),
  position: $("#queue-position"),
  log: $("#log"),
  typing: $("#typing"),
  composer: $("#composer"),
  text: $("#text"),
  send: $("#send"),
  count: $("#count"),
  stop: $("#stop"),
  endedReason: $("#ended-reason"),
  referenceBox: $("#reference-box"),
  reference: $("#reference"),
  copyReference: $("#copy-reference"),
  copyDone: $("#copy-done"),
  erase: $("#erase-conversation"),
  eraseDone: $("#erase-done"),
  chatReference: $("#chat-reference"),
  chatReferenceCode: $("#chat-reference-code"),
  privacyLink: $("#privacy-link"),
  again: $("#again"),
  refusedMessage: $("#refused-message"),
  refusedUntil: $("#refused-until"),
  quickExit: $("#quick-exit"),
};

export const state = {
  socket: null,
  status: "welcome", // welcome | connecting | waiting | active | ended | refused
  token: tokenStore.get(),
  startPayload: null,
  conversationId: null,
  reference: null, // the personal code, from `start` (shown during the chat) or the end
  volunteer: null,
  lastId: null,
  seen: new Map(), // message id → element
  pending: new Map(), // client_id → {text, node, sending}
  unread: 0,
  typingSent: false,
  typingTimer: null,
  retryTimer: null,
  retryDelay: 1000,
  maxLength: 4000,
};

export function saveToken(token) {
  state.token = token;
  tokenStore.set(token);
}

export function inConversation() {
  return state.status === "waiting" || state.status === "active" || state.status === "connecting";
}
