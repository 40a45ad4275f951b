"""Drop-folder pages (included by labtrack.urls)."""
from django.urls import path

from labtrack.dropfolders import views

urlpatterns = [
    path("", views.folder_list, name="dropfolder_list"),
    path("<int:pk>/", views.folder_detail, name="dropfolder_detail"),
    path("items/<int:pk>/assign/", views.item_assign, name="dropitem_assign"),
    path("items/<int:pk>/dismiss/", views.item_dismiss, name="dropitem_dismiss"),
]
