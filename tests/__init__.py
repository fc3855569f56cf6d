"""aijob's test suites: unit, integration (a real API server) and end to end."""
