from redlines.cli import main

main()
