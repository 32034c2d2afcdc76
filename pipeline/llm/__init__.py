"""The LLM side: the client, its backends and the embedded server, and the transport stack
(response cache, limiter, metering, prices, redaction) every request goes through."""
