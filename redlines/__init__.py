"""redlines: a red line tracker for political threats and whether they are carried out."""

__version__ = "0.1.0"
SCHEMA_VERSION = 1  # of the JSON documents redlines writes and reads (export, report, show)
