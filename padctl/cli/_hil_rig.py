"""`padctl hil`: see padctl/cli/_hil.py."""

from __future__ import annotations

from padctl.cli._hil import hil_app

__all__ = ["hil_app"]
