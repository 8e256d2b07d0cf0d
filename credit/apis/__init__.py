"""The customer and merchant HTTP API (DRF) under /api/v1/."""
