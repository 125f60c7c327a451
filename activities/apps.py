from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_builtin_catalogs(sender, **kwargs) -> None:
    """The built-in matter catalogs follow ``activities.catalogs`` after every migration (as
    Django keeps its content types): new entries added, changed ones versioned. The lists are
    code, reviewed like code; a department's own entries are services with custody events."""
    from django.db import connections

    from activities.catalog import sync_builtin_catalogs
    from activities.filing import has_unfiled
    from activities.models import MatterType

    connection = connections[kwargs.get("using") or "default"]
    if MatterType._meta.db_table in connection.introspection.table_names():  # not after "migrate … zero"
        sync_builtin_catalogs()
        if has_unfiled():
            # the free text of recordings catalogued before cases and the catalog existed
            # (REC-9), linked by the worker: at scale it takes longer than a migration should
            from activities.tasks import file_unfiled_recordings

            file_unfiled_recordings()


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "执法活动与案件"

    def ready(self) -> None:
        post_migrate.connect(_load_builtin_catalogs, sender=self, dispatch_uid="activities.builtin_catalogs")
