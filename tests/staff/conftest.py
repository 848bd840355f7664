"""Staff tests: the console shopper of tests/dialogs (``chat_factory``) for the shopper's side."""

from __future__ import annotations

from tests.dialogs.conftest import chat_factory

__all__ = ["chat_factory"]
