"""`python -m liaison` is the `liaison` command; the demo starts nodes with it."""

from liaison.cli import main

main()
