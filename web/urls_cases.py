"""案件 (REC-9): the case list, a case's page with its stages and documents (文书, uploaded
into the vault as originals), closing and archiving."""

from django.urls import path

from web.views import cases as case_views

# the ``id`` converter is registered by web/urls.py, which includes these patterns
urlpatterns: list = [
    path("cases/", case_views.case_list, name="case_list"),
    path("cases/new", case_views.case_new, name="case_new"),
    path("cases/<id:case_id>/", case_views.case_detail, name="case_detail"),
    path("cases/<id:case_id>/documents/new", case_views.case_document_new, name="case_document_new"),
    path("cases/<id:case_id>/stage", case_views.case_stage, name="case_stage"),
    path("cases/<id:case_id>/close", case_views.case_close, name="case_close"),
    path("cases/<id:case_id>/archive", case_views.case_archive, name="case_archive"),
    path("documents/<id:document_id>/download", case_views.case_document_download, name="case_document_download"),
    # the 文书 card of an activity's page
    path("activities/<id:activity_id>/documents/new", case_views.activity_document_new,
         name="activity_document_new"),
]
