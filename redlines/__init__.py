"""redlines: a red line tracker for political threats and whether they are carried out."""

__version__ = "0.1.0"
# The version of the JSON documents redlines writes and reads (export, report, show), which they
# carry as `schema_version`; the database's own version is its schema revision ("0008").
DOCUMENT_VERSION = 1
