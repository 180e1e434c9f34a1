"""Presses on a fleet of ``buttons worker`` processes over Redis (docs/fleet.md, issue 17).

- ``protocol``: the signed, self-contained press message (stdlib only: hmac, hashlib, json);
- ``state``: the fleet-wide state in Redis (press attempts, leases, fences, the record stream),
  one Lua script per transition so each is atomic on the one Redis primary;
- ``worker``: ``buttons worker``: Dramatiq consumes the queue, each press runs through the same
  press service, runner and supervisor as a local press, and the masked result goes to the stream;
- ``front``: the ``serve`` side: the fleet runner (placement ``fleet``) and the recorder that turns
  the stream into run records on this node.

Nothing here is imported by ``buttons press`` (tests/test_imports.py): redis and dramatiq come from
the optional ``fleet`` extra and are imported only by ``state``, ``worker`` and ``front``.
"""
