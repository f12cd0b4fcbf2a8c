"""Shipments: what left the warehouse for an order, parcel by parcel, with the lot and expiry of
every pack, so that any lot can be traced to the clinics that received it."""
