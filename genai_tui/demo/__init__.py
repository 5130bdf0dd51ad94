"""The demo world: a synthetic data set and the tiny models trained on it."""
