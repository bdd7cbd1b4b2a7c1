"""Inbound intake per channel: the HTTP app, the WhatsApp and generic-channel parsers, records, the store."""
