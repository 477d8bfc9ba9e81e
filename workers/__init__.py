"""The worker side of shunt: one process per account (or a few) sending requests upstream.

The pure cores (account.py, ratelimit.py, sse.py) decide and parse without I/O or a clock;
the trio/httpx edges around them act on their verdicts.
"""
