"""Recalls: a manufacturer recalls lots of a product; the shop finds every clinic that received
them, takes what is left off sale, tells every affected practice and the customer-care desk,
records each practice's acknowledgement, and closes with a report of who was told when."""
