"""A department's compliance settings (REC-1, REC-2, REC-7, INT-1): its matter catalog with
its own entries, the tolerances, and the webhook endpoints findings changes are pushed to."""

urlpatterns: list = []
