"""`python -m aijob_cli`: the same as the `aijob` command."""

from aijob_cli.main import main

main()
