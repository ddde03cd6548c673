"""redlines: a red line tracker for political threats and whether they are carried out."""

__version__ = "0.1.0"
