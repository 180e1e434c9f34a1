"""Services: what surfaces call. Each takes a ``Layout`` and plain values, returns plain data."""
