"""The Explore tab: basin-of-attraction maps and learning-rate sweeps from the batch engine."""
