"""`python -m expbridge` is the `expbridge` command."""

from expbridge.cli.main import main

main()
