"""A department's compliance settings (REC-1, REC-2, REC-7, INT-1): its matter catalog with
its own entries, the tolerances, and the webhook endpoints findings changes are pushed to."""

from django.urls import path

from web.views import activities_settings as views

# the names start with ``activity_``: the 执法活动 navigation entry stays lit (web.context)
urlpatterns: list = [
    path("activities/catalog/", views.activity_catalog, name="activity_catalog"),
    path("activities/catalog/<id:matter_id>/revise", views.activity_catalog_revise, name="activity_catalog_revise"),
    path("activities/settings/", views.activity_settings, name="activity_settings"),
    path("activities/settings/tolerances", views.activity_settings_tolerances, name="activity_settings_tolerances"),
    path("activities/settings/webhooks/new", views.activity_settings_webhook_new,
         name="activity_settings_webhook_new"),
    path("activities/settings/webhooks/<id:endpoint_id>/active", views.activity_settings_webhook_active,
         name="activity_settings_webhook_active"),
    path("activities/settings/webhooks/<id:endpoint_id>/rotate", views.activity_settings_webhook_rotate,
         name="activity_settings_webhook_rotate"),
]
