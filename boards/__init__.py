"""Board descriptions (package data: one folder per board with its board.yaml)."""
