"""The main screen's panels, one per file."""
