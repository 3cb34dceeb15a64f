"""Live state shared by every worker: the queue, availability, who is in which conversation.

One interface (`LiveState`); `memory.py` for one process, `redis.py` for several."""

from chatserver.live.base import (
    Heartbeat,
    LiveConversation,
    LiveState,
    LiveUnavailable,
    Pairing,
    Released,
)
from chatserver.live.memory import MemoryLiveState

__all__ = ["Heartbeat", "LiveConversation", "LiveState", "LiveUnavailable", "MemoryLiveState",
           "Pairing", "Released"]
