"""Chat server of an anonymous Dutch youth helpline.

Young people chat with volunteers; only keyed hashes of addresses are kept (see docs/)."""

__all__ = ["__version__"]
__version__ = "0.1.0"
