"""The Socket.IO side of the server: one namespace class per audience.

Handlers are thin: they parse the payload, learn who acts (chatserver/connections.py) and call
an action (chatserver/actions/); the action's answer is the ack."""
