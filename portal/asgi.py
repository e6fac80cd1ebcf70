"""The ASGI entry point for uvicorn: `uvicorn portal.asgi:app` (each worker imports this)."""

from portal.app import create_app
from portal.logs import configure

configure()
app = create_app()
