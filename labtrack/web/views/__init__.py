"""Views by area: accounts, batches, samples, measurements, runs (and the review queue)."""
