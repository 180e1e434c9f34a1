"""Runners: turn an ``Invocation`` into an ``Outcome`` (code, prompt; HTTP later)."""
