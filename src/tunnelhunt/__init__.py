"""tunnelhunt: find reverse-proxy and tunnelling tools in the logs a team already collects."""

__version__ = "0.1.0"
