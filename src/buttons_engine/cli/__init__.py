"""The command-line surface: parse, call one service, render."""
