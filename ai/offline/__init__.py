"""The offline analyzer: rules and the lexicon files, no network."""
