"""Live state shared by every worker: the queue, availability, who is in which conversation.

One interface (`LiveState`); `memory.py` for one process, `redis.py` for several."""

from chatserver.live.base import LiveConversation, LiveState, Pairing
from chatserver.live.memory import MemoryLiveState

__all__ = ["LiveConversation", "LiveState", "MemoryLiveState", "Pairing"]
