"""The demo shop: the catalogue of the seed businesses' product families and demo accounts."""
