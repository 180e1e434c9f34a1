"""Buttons for Python: typed, pressable actions with run history.

Layers (arrows point down only)::

    cli/        surfaces: parse input, call one service, render the result
    services/   buttons, history, settings, summary
    engine/     the one press pipeline and its runners
    store/      paths, atomic files, permissions, JSON codecs

Nothing heavy is imported here: ``buttons press`` must start about as fast as Python.
"""

__version__ = "0.1.0"
