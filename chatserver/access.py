"""Who may read or act on which conversation: one rule per kind of act, in one place.

The volunteer of a conversation may act on it; some acts are open to a role and up as well
(a supervisor may end, time out, flag and read any conversation)."""

from __future__ import annotations

from chatserver.auth import StaffMember
from chatserver.errors import ChatError


def require_own(volunteer_id: str | None, member: StaffMember, or_role: str | None = None
                ) -> None:
    """`forbidden` unless `member` is the conversation's volunteer (or has `or_role`)."""
    if volunteer_id is not None and volunteer_id == member.id:
        return
    if or_role is not None and member.can(or_role):
        return
    raise ChatError("forbidden")


def require_reader(volunteer_id: str | None, member: StaffMember) -> None:
    """Reading a conversation's messages (transcript, flagging): its volunteer, or a
    supervisor and up."""
    require_own(volunteer_id, member, or_role="supervisor")
