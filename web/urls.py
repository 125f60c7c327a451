from django.urls import path, register_converter

from core.bounds import IdConverter, SizeConverter
from web import views
from web.views import access_profiles as access_profile_views
from web.views import access_register as access_register_views
from web.views import access_requests as request_views
from web.views import activities as activity_views
from web.views import activities_actions as activity_actions
from web.views import approval_form as approval_form_views
from web.views import audit as audit_views
from web.views import confidentiality as confidentiality_views
from web.views import purpose as purpose_views
from web.views import security as security_views
from web.views.auth import login_verify_view

register_converter(IdConverter, "id")
register_converter(SizeConverter, "size")

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change_view, name="password_change"),
    path("upload/", views.upload, name="upload"),
    path("upload/items/", views.upload_items, name="upload_items"),
    path("ingest/", views.ingest_list, name="ingest_list"),
    path("recordings/", views.recording_list, name="recording_list"),
    path("recordings/<id:pk>/", views.recording_detail, name="recording_detail"),
    path("recordings/<id:pk>/edit", views.recording_edit, name="recording_edit"),
    path("recordings/<id:pk>/purpose", purpose_views.recording_purpose, name="recording_purpose"),
    path(
        "recordings/<id:pk>/late-reason", views.recording_late_reason, name="recording_late_reason"
    ),
    path("recordings/<id:pk>/history", views.recording_history, name="recording_history"),
    path("recordings/<id:pk>/access-log", views.recording_access_log, name="recording_access_log"),
    path("recordings/<id:pk>/content", views.recording_content, name="recording_content"),
    path("recordings/<id:pk>/play", views.recording_play, name="recording_play"),
    path(
        "recordings/<id:pk>/derivatives/<slug:kind>",
        views.recording_derivative,
        name="recording_derivative",
    ),
    path("audit/events/", views.audit_events, name="audit_events"),
    path("audit/verifications/", views.audit_verifications, name="audit_verifications"),
    path("audit/verifications/run", views.audit_verify_now, name="audit_verify_now"),
    path("audit/access/", views.audit_access, name="audit_access"),
    path("access/", views.my_access, name="my_access"),
    path("access/findings/<id:pk>/acknowledge", access_register_views.acknowledge_finding_view,
         name="access_finding_acknowledge"),
    path("audit/checkpoints/", audit_views.audit_checkpoints, name="audit_checkpoints"),
    path("audit/checkpoints/sign", audit_views.audit_checkpoint_now, name="audit_checkpoint_now"),
    path("audit/checkpoints/<size:size>/note.txt", audit_views.audit_checkpoint_note, name="audit_checkpoint_note"),
    path("audit/checkpoints/<size:size>/print.pdf", audit_views.audit_checkpoint_pdf, name="audit_checkpoint_pdf"),
    path("audit/bundle/", audit_views.audit_bundle, name="audit_bundle"),
    path("access/requests/", request_views.access_request_list, name="access_request_list"),
    path("access/requests/new", request_views.access_request_new, name="access_request_new"),
    path("access/requests/route", request_views.access_request_route, name="access_request_route"),
    path("access/requests/units", request_views.access_request_units, name="access_request_units"),
    path("access/requests/<id:pk>/", request_views.access_request_detail, name="access_request_detail"),
    *(
        path(f"access/requests/<id:pk>/{action}", request_views.access_request_act, {"action": action},
             name=f"access_request_{action}")
        for action in request_views.ACTIONS
    ),
]

# 账号安全 (ACC-6): second factor, recovery codes, sessions; the second step of signing in
urlpatterns += [
    path("login/verify/", login_verify_view, name="login_verify"),
    path("security/", security_views.security_overview, name="security_overview"),
    path("security/totp/", security_views.security_totp, name="security_totp"),
    path("security/totp/remove", security_views.security_totp_remove, name="security_totp_remove"),
    path("security/recovery-codes", security_views.security_recovery_codes, name="security_recovery_codes"),
    path("security/passkey-added", security_views.security_passkey_added, name="security_passkey_added"),
    path("security/passkey/<id:pk>/remove", security_views.security_passkey_remove, name="security_passkey_remove"),
    path("security/sessions/<id:pk>/end", security_views.security_session_end, name="security_session_end"),
    path("security/sessions/end-others", security_views.security_sessions_end_others,
         name="security_sessions_end_others"),
]

# 对外提供审批表, 调阅审批规则, 保密标记 (issue 9: ACC-1, ACC-3)
urlpatterns += [
    path("access/requests/<id:pk>/approval-form.pdf", approval_form_views.access_request_form,
         name="access_request_form"),
    path("access/profiles/", access_profile_views.access_profiles, name="access_profiles"),
    path("recordings/<id:pk>/confidentiality/mark", confidentiality_views.recording_mark_confidential,
         name="recording_mark_confidential"),
    path("recordings/<id:pk>/confidentiality/clear", confidentiality_views.recording_clear_confidential,
         name="recording_clear_confidential"),
]

# 当事人书面申请 (ACC-4): the party's written application of a party copy, as a download
urlpatterns += [
    path("access/requests/<id:pk>/application", request_views.access_request_application,
         name="access_request_application"),
]

# 执法活动 (REC-3, REC-4, REC-9, SUP-2): the list, registering one, its page with the drawn
# timeline, and what is done there through the services; open findings by officer and type
urlpatterns += [
    path("activities/", activity_views.activity_list, name="activity_list"),
    path("activities/new", activity_views.activity_new, name="activity_new"),
    path("activities/new/matter", activity_views.activity_matter, name="activity_matter"),
    path("activities/findings/", activity_views.activity_findings, name="activity_findings"),
    path("activities/<id:activity_id>/", activity_views.activity_detail, name="activity_detail"),
    path("activities/<id:activity_id>/link", activity_actions.activity_link, name="activity_link"),
    path("activities/<id:activity_id>/unlink", activity_actions.activity_unlink, name="activity_unlink"),
    path("activities/<id:activity_id>/findings/<id:finding_id>/explain", activity_actions.finding_explain,
         name="activity_finding_explain"),
    path("activities/<id:activity_id>/findings/<id:finding_id>/accept", activity_actions.finding_accept,
         name="activity_finding_accept"),
    path("activities/<id:activity_id>/interruptions/new", activity_actions.interruption_new,
         name="activity_interruption_new"),
    path("activities/<id:activity_id>/interruptions/<id:interruption_id>/acknowledge",
         activity_actions.interruption_acknowledge,
         name="activity_interruption_acknowledge"),
    path("activities/<id:activity_id>/markers/new", activity_actions.marker_new, name="activity_marker_new"),
    path("activities/<id:activity_id>/non-recording", activity_actions.non_recording_report,
         name="activity_non_recording"),
    path("activities/<id:activity_id>/non-recording/acknowledge", activity_actions.non_recording_acknowledge,
         name="activity_non_recording_acknowledge"),
    path("activities/<id:activity_id>/non-recording/decide", activity_actions.non_recording_decide,
         name="activity_non_recording_decide"),
]

# 案件 and a department's compliance settings (issue 10): their own modules
from web import urls_cases, urls_settings  # noqa: E402

urlpatterns += urls_cases.urlpatterns + urls_settings.urlpatterns
