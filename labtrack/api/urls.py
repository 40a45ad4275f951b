from rest_framework.routers import DefaultRouter

from labtrack.api import views

router = DefaultRouter()
router.register("batches", views.BatchViewSet, basename="api-batch")
router.register("samples", views.SampleViewSet, basename="api-sample")
router.register("measurements", views.MeasurementViewSet, basename="api-measurement")
router.register("runs", views.RunViewSet, basename="api-run")
router.register("quantities", views.QuantityViewSet, basename="api-quantity")

urlpatterns = router.urls
