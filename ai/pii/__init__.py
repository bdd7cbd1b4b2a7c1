"""PII detection and redaction: Presidio with our recognizers."""
