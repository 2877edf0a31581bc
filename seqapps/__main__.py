"""Allow `python -m seqapps ...`."""

from seqapps.cli import main

main()
