"""Near-duplicate problems and achievements: same organization, near-identical text."""
