"""The trained verifier: sentence embeddings, features, the calibrated stance model, its training."""
