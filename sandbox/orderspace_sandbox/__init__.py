"""A local emulator of the Orderspace REST API, with seeded data, throttling and injectable faults."""

from .server import Sandbox

__all__ = ["Sandbox"]
