"""The store: the only code that opens files under the data dir."""
