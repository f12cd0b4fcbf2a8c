"""Limits on what people may enter, stated once for the forms, the services and the pages."""

# Packs on one line of a cart, an order or a quote.
MAX_LINE_QUANTITY = 999

# A SKU as the catalogue spells it, and as order and quote lines copy it.
SKU_LENGTH = 40

# An item that is not in the catalogue is named in at most this many characters: the name
# travels to the quote's line and, once accepted, to the order's line.
ITEM_NAME_LENGTH = 160

# Lines of one quote request, or of one version of a quote.
MAX_QUOTE_LINES = 100

# A practice's own purchase-order reference.
PO_NUMBER_LENGTH = 40

# As messages put it: "Enter a quantity between 1 and 999."
QUANTITY_RANGE = f"between 1 and {MAX_LINE_QUANTITY}"


def quantity_in_range(quantity: int) -> bool:
    return 1 <= quantity <= MAX_LINE_QUANTITY
