"""Quotes: a practice asks, the quotes desk builds and sends versions, both sides talk, and an
accepted version becomes an order at exactly its prices; the quote as a PDF, and its emails."""
