"""Runs over files and folders into an output folder: finding the inputs, the folder and its
files, the manifest, the budget, the driver and its ledger (shared by the engines), the local
engine (the scheduler that keeps the calls in flight) and the Ray engine (dispatch, actors),
--shard i/N and merge, progress reporting, and the OpenAI Batch API path."""
