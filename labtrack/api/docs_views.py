"""The schema and its two readers. Swagger UI's start-up script is served as a file
(SpectacularSwaggerSplitView), so no inline script runs; Swagger UI and Redoc set styles
from JavaScript, so these two pages alone allow inline styles (scripts stay 'self')."""
from __future__ import annotations

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

_inline_styles = method_decorator(csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["'self'", "data:"],
                                              "worker-src": ["'self'", "blob:"]}), name="dispatch")


class SchemaView(SpectacularAPIView):
    pass


@_inline_styles
class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"


@_inline_styles
class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"
