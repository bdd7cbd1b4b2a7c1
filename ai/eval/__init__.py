"""Scoring analyzers and the PII detector on labelled cases."""
