"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import datetime as dt

from bot.commands.text import t


def iso_date(text: str) -> dt.date:
    """A YYYY-MM-DD date, or a clear argparse error."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(t("args.bad_date", text=text)) from None


def positive(raw: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(t("args.at_least_one"))
    return value
