"""The aijob command line client."""
