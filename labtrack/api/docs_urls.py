"""/api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI) and /api/redoc/ (Redoc), served from
our own static files (drf-spectacular-sidecar): the CSP allows nothing from elsewhere."""
from django.urls import path

from labtrack.api import docs_views

urlpatterns = [
    path("schema/", docs_views.SchemaView.as_view(), name="api-schema"),
    path("docs/", docs_views.SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", docs_views.RedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
