// MusterAgent: filled by later issues.
