"""Telegram channel adapter (aiogram 3)."""
