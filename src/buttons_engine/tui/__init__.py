"""``buttons board``: the terminal UI, on Textual (the optional ``board`` extra).

A surface like the CLI: it reads and presses through ``services.board`` and ``services.presses``
only. Nothing here is imported unless ``buttons board`` runs (tests/test_imports.py).
"""
