"""`python -m redlines`: from a source checkout this may run where the dependencies are not
installed; say so plainly instead of a traceback."""

import sys

try:
    from redlines.cli import main
except ModuleNotFoundError as e:
    if e.name is None or e.name.split(".")[0] == "redlines":
        raise
    sys.exit(
        f"redlines: the package {e.name!r} is not installed here; install redlines with its "
        f"dependencies first (pip install -e . in the repository, or pip install .)"
    )

main()
