"""The HTTP API v1 (FastAPI), hosted in-process over the conjure core and store.

``create_app(settings=None)`` builds the app; ``uvicorn --factory conjure.server:create_app``
serves it, as does ``conjure serve``.
"""

from conjure.server.app import create_app
from conjure.server.settings import Settings

__all__ = ["create_app", "Settings"]
