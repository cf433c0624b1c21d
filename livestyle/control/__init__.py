"""Control surfaces: one table of live parameters and actions (``commands``) that the TUI, OSC and MIDI share."""
