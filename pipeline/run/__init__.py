"""Runs over files and folders into an output folder: finding the inputs, the folder and its
files, the manifest, the budget, the scheduler that keeps the calls in flight, progress
reporting, and the OpenAI Batch API path."""
