"""The engine: one press pipeline and the runners it dispatches to."""
