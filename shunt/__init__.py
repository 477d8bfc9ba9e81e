"""shunt: pool several Claude subscription accounts behind one Anthropic-compatible endpoint."""

__version__ = "0.1.0"
