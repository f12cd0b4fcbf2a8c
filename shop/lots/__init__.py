"""Lots (batches): stock as the manufacturer numbered it, with its expiry, received, quarantined,
released, written off, shipped and recalled one lot at a time."""
