"""Masthead: a headless, Wagtail-style content service for news sites."""

__version__ = "0.1.0"
