"""What every app needs and no app owns: domain errors, event publishing, reason codes,
permission checks, admin base classes, beat schedule registration."""
