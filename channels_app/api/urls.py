"""REST API for the administrators' frontend (mounted under /api/)."""

urlpatterns: list = []
