"""The command line: parses flags, wires the core and the shell, turns errors into exit codes."""
