// MusterConsole: filled by later issues.
