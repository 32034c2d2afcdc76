"""Test and benchmark helpers shipped with the package (a fake OpenAI-compatible server)."""
