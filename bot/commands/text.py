"""What the `yibao` command says to staff, from templates/cli/zh.toml (Simplified Chinese).

`t("section.key", **fields)` is one entry with its `{fields}` filled in. A key missing from the catalogue is a
KeyError when the parser is built, so a test that builds the parser catches it. The reader itself is the leaf
bot/catalogue.py, which the store and the scheduler share.
"""

from __future__ import annotations

from bot.catalogue import CATALOGUE, catalogue, section, t

__all__ = ["CATALOGUE", "CommandError", "catalogue", "section", "t"]


class CommandError(Exception):
    """A refusal with its reason for staff (already in Chinese): `yibao` prints it and exits with status 2."""
