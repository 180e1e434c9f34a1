"""``buttons serve``: the REST surface (CONTRACT 13), a Starlette app on uvicorn.

- ``app.py``: the ASGI application: routes, the envelope, auth, rate limits, CORS, secure headers,
  the body limit and the presses in flight;
- ``openapi.py``: the OpenAPI 3.1 document of every route, as data (``GET /api/openapi.json``);
- ``run.py``: binding, uvicorn's configuration (slow-client timeouts, no ``Server`` banner) and the
  graceful stop on SIGTERM/SIGINT;
- ``schedule.py``: the cron triggers' scheduler (webhook triggers are ``app.Webhooks``).

Only ``cli/serve.py`` imports this package: Starlette, uvicorn and ``limits`` stay off every other
command's path (``tests/test_imports.py``). Every press goes through the press service
(``services.presses``) with the ``serve`` policy; every read through ``services.serve``.
"""
