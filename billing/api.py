"""The billing API (DRF): same services, selectors and FilterSets as the pages."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
