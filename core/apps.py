from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "基础"

    def ready(self):
        from core.memory import return_large_buffers

        return_large_buffers()  # every process: web workers, the Huey worker, commands
