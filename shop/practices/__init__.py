"""Practices, the shop's customers: their details and delivery addresses, their members and
what each member may do, and their terms with the shop."""
