"""The cart: one line per variant per clinician kept in the database, the cart as the clinician
sees it (prices, volume breaks, what cannot be bought as it stands), and quick order."""
