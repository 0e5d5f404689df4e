"""Small helpers shared across dendrite (atomic file writes, ...)."""

from dendrite.utils.atomic import atomic_path, atomic_write, atomic_write_bytes, atomic_write_text

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "atomic_write_text"]
