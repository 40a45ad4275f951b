from django.apps import AppConfig


class DropfoldersConfig(AppConfig):
    name = "labtrack.dropfolders"
    label = "dropfolders"
    verbose_name = "Drop folders"
