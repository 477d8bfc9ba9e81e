"""PURE domain model: account snapshots, windows and states, credentials, durations, and the
account state machine (each worker owns one at run time; the routing evaluation drives it)."""
