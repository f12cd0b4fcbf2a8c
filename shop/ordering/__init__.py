"""Orders: checkout from the cart, an order's life after it is placed, card payment of an order,
a practice's terms on account, the orders desk and the order emails."""
