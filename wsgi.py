"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from shop import create_app
from shop.core.collector import settle_for_serving

app = create_app()
settle_for_serving()
