"""Durable records in SQL: conversations, messages, staff, sanctions, audit log.

`Store` is the only way in; it owns the engine and the group-commit message writer."""

from chatserver.store.store import MessageRow, Store

__all__ = ["MessageRow", "Store"]
