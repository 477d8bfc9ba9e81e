"""PURE OpenAI ↔ Anthropic translation (SPEC §9, issue 14): requests, whole answers and the two
stream translators (Anthropic SSE events in, chat completion chunks / Responses API events out),
as sans-IO code with time and ids passed in. The OpenAI listener in the front door is the thin
edge that feeds them."""
