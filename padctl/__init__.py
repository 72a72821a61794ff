"""padctl: launch-pad ground equipment control."""

__version__ = "0.1.0"
