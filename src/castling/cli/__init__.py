"""Command line: `castling` commands and the chat REPL."""
