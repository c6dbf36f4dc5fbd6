"""DRF endpoints for clients and what hangs off them, under /api/v1/."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
