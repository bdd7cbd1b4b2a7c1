"""What every room stands on: settings, the repository and its named queries, errors, logs, encryption."""
