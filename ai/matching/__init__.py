"""Matching customer words to a distributor's catalog: the matcher, line matching, learned aliases."""
