"""The board's four themes (CONTRACT 16.8): ``default paper phosphor amber``."""

from __future__ import annotations

from textual.theme import Theme

NAMES = ("default", "paper", "phosphor", "amber")

THEMES = (
    Theme(
        name="default",
        primary="#4C9BE8",
        secondary="#8FB8DE",
        accent="#F2C14E",
        warning="#F2C14E",
        error="#E5534B",
        success="#57AB5A",
        foreground="#E6E6E6",
        background="#15171C",
        surface="#1E2128",
        panel="#272B33",
        dark=True,
    ),
    Theme(
        name="paper",
        primary="#1F4E79",
        secondary="#5B7C99",
        accent="#9C4A00",
        warning="#9C6500",
        error="#B3261E",
        success="#2E7D32",
        foreground="#222222",
        background="#F6F1E7",
        surface="#EDE6D8",
        panel="#E2D9C6",
        dark=False,
    ),
    Theme(
        name="phosphor",
        primary="#33FF66",
        secondary="#1FAA44",
        accent="#B8FFC8",
        warning="#D0FF33",
        error="#FF5555",
        success="#33FF66",
        foreground="#33FF66",
        background="#050A05",
        surface="#0B140B",
        panel="#112211",
        dark=True,
    ),
    Theme(
        name="amber",
        primary="#FFB000",
        secondary="#CC8800",
        accent="#FFD27F",
        warning="#FFD27F",
        error="#FF6A3D",
        success="#FFC640",
        foreground="#FFB000",
        background="#0F0A00",
        surface="#1A1200",
        panel="#261A00",
        dark=True,
    ),
)
