// MusterClient: filled by later issues.
