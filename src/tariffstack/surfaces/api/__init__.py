"""The HTTP API and the web page: ``create_app`` makes the app, ``serve`` runs it."""

from tariffstack.surfaces.api.app import bind, create_app, make_server, serve, url_for
from tariffstack.surfaces.api.errors import ApiError
from tariffstack.surfaces.api.http import MAX_BODY, MAX_QUERY_STRING

__all__ = ["MAX_BODY", "MAX_QUERY_STRING", "ApiError", "bind", "create_app", "make_server",
           "serve", "url_for"]
