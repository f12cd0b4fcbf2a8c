"""Stripe: the only code that talks to it (Checkout Sessions, webhook signatures), the log of
webhook events received, and the webhook endpoint, which tells ordering what Stripe says."""
