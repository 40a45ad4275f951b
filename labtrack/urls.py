from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("labtrack.web.urls")),
    path("api/v1/", include("labtrack.api.urls")),
    path("api/", include("labtrack.api.docs_urls")),
    path("dropfolders/", include("labtrack.dropfolders.urls")),
]
