"""The hub web app fixtures, shared with tests/hub/web."""

from tests.hub.web.conftest import web, web_app

__all__ = ["web", "web_app"]
