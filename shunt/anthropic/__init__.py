"""PURE Anthropic protocol: header rules, SSE scanning and framing, rate-limit scraping, usage,
the error shape and the classification of upstream answers."""
