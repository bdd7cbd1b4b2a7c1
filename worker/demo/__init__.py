"""The demo: the whole flow against a verifying receiver, with its own data."""
