"""Unit tests of the gateway's inference dispatcher."""
