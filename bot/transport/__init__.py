"""bot/transport."""
