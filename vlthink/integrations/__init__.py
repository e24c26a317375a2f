"""vlthink meeting other evaluation harnesses (each needs its own extra)."""
