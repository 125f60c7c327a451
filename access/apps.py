from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "查阅与调取"
