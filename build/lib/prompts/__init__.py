"""The stages' prompt templates (``*.j2``), shipped as package data so any install can read them."""
