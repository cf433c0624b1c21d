"""The TUI's screens and modals, one per file."""
