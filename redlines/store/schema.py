"""Names of the schema that SQL text refers to, in one pure module (no SQLAlchemy: the command
paths import it). `models.py` builds the tables from these names and from the domain's
vocabularies; the read queries refer to the indexes by the same names, so that renaming one
renames both, and a test holds each name to an index the models make."""

from __future__ import annotations

# Indexes a query steers SQLite's planner to (`INDEXED BY`): a hint naming an index that does
# not exist fails at run time, so the models name them from here.
SETTLING_INDEX = "ix_threat_settled_on"  # the threats a past date must judge again: few
REPORT_INDEX = "ix_threat_report"  # settled verdicts per issuer, outcome and days, unsorted
# Settled verdicts per category and outcome, then date: a report by category groups in this order,
# and one by year reads each year as one range of each category and outcome: neither sorts.
REPORT_DATED_INDEX = "ix_threat_report_dated"
AWAITING_INDEX = "ix_threat_awaiting"  # settled threats still owed a response, oldest test first
HINTED_INDEXES = (SETTLING_INDEX, REPORT_INDEX, REPORT_DATED_INDEX, AWAITING_INDEX)
