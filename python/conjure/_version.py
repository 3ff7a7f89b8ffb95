"""The single source of conjure's version (read by pyproject.toml and CMakeLists.txt)."""

__version__ = "0.1.0"
