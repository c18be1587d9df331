"""hookchain: verified webhooks in, reaction rules, chained API calls out."""

__version__ = "0.1.0"
