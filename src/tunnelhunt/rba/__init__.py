"""Risk-based alerting: findings become risk events on their risk objects."""
