"""Worker processes against real AIJobs: progress, results, checkpoints, exit codes."""
