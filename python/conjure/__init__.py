"""conjure: programmable, playable worlds."""

from conjure._version import __version__

__all__ = ["__version__"]
