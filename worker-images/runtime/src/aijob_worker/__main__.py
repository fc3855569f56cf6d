"""`python -m aijob_worker`: run the job described by the environment."""

from aijob_worker.cli import main

raise SystemExit(main())
