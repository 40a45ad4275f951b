"""Drop-folder pages (included by labtrack.urls)."""
from django.urls import path

from labtrack.dropfolders import views

urlpatterns = [
    path("", views.folder_list, name="dropfolder_list"),
    path("new/", views.folder_new, name="dropfolder_new"),
    path("<int:pk>/", views.folder_detail, name="dropfolder_detail"),
    path("<int:pk>/edit/", views.folder_edit, name="dropfolder_edit"),
    path("items/<int:pk>/assign/", views.item_assign, name="dropitem_assign"),
    path("items/<int:pk>/dismiss/", views.item_dismiss, name="dropitem_dismiss"),
]
