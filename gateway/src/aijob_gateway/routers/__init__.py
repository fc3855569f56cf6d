"""One router per resource: jobs, queue, nodes, health, and the seed-compatible routes."""
