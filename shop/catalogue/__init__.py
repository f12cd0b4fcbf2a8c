"""The catalogue: products, their variants, prices and regulatory status, finding them, and the
one compliance module that says who may buy what."""
