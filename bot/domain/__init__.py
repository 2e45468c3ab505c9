"""bot/domain."""
