from django.urls import re_path
from rest_framework.routers import DefaultRouter

from labtrack.api import views, views_catalogue
from labtrack.api.errors import api_not_found

router = DefaultRouter()
router.register("projects", views_catalogue.ProjectViewSet, basename="api-project")
router.register("protocols", views_catalogue.ProtocolViewSet, basename="api-protocol")
router.register("instruments", views_catalogue.InstrumentViewSet, basename="api-instrument")
router.register("batches", views.BatchViewSet, basename="api-batch")
router.register("samples", views.SampleViewSet, basename="api-sample")
router.register("measurements", views.MeasurementViewSet, basename="api-measurement")
router.register("files", views_catalogue.RawFileViewSet, basename="api-raw-file")
router.register("runs", views.RunViewSet, basename="api-run")
router.register("quantities", views.QuantityViewSet, basename="api-quantity")
router.register("studies", views_catalogue.StudyViewSet, basename="api-study")

urlpatterns = router.urls + [
    # Last: any other path under /api/v1/ is a 404 in the API's error shape, not the HTML page.
    re_path(r"^.*$", api_not_found, name="api-not-found"),
]
