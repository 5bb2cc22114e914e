// MusterBroker: filled by later issues.
