// MusterLaunch: filled by later issues.
