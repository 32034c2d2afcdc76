"""The article as text: reading inputs, sentences, the context windows the model is shown,
quote alignment into spans, rule-based attributions and prompt rendering. No LLM calls."""
