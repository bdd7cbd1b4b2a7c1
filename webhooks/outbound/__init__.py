"""Outbound delivery: Standard Webhooks signing, the retry schedule, the SSRF guard, attempts and the loop."""
