"""The domain actions of the helpline, one module per capability.

Each action takes the Context and domain arguments (a staff member, a conversation id, a
text), never a socket id with a raw payload: the socket handlers (chatserver/realtime/) and the
HTTP routes (chatserver/web/) parse, authenticate, then call the same action. An action
validates what only it can know, stores durably, then hands what leaves the server to the
outbox. What runs in the background (timers, tasks, the pairing loop, the per-conversation
turns) lives on `ctx.worker` (worker.py)."""
