"""Services the CLI calls (corrections, retention, users, keys, catalog import); no Typer here."""
