"""Privacy machinery: address hashing, references, retention, requests, audit log.

Everything that decides what is kept about a person lives here."""
