from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "storage"
    verbose_name = "文件库"
