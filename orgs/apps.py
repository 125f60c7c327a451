from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "组织与人员"

    def ready(self):
        from axes.signals import user_locked_out

        from orgs.lockout import record_lockout

        user_locked_out.connect(record_lockout, dispatch_uid="orgs.record_lockout")

        from django.contrib.auth.signals import user_logged_in

        from orgs.middleware import mark_signed_in

        user_logged_in.connect(mark_signed_in, dispatch_uid="orgs.mark_signed_in")

        from django.contrib.auth.signals import user_logged_out

        from orgs.sessions import record_session_end, record_session_start

        # the 账号安全 page's list of sessions (bookkeeping only: custody events stay explicit)
        user_logged_in.connect(record_session_start, dispatch_uid="orgs.record_session_start")
        user_logged_out.connect(record_session_end, dispatch_uid="orgs.record_session_end")
