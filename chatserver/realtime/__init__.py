"""The Socket.IO side of the server: one namespace class per audience.

Handlers are thin: they hand the payload to a ChatService action and return its ack."""
