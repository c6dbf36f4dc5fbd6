"""The notifications API (DRF)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
