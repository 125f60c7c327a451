"""入库情况: what arrived and how far each file got (the custodian's check, ING-1/ING-3/ING-6).

Every role sees what its scope allows (ingest.selectors): an officer their own items and
those of recordings they appear on, a custodian or unit head the unit's, a department head
the department's.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.utils.translation import gettext as _

from ingest.choices import IngestStatus
from ingest.selectors import list_ingest_items
from orgs.choices import Role
from web.forms import IngestFilterForm
from web.views.common import is_htmx, media_page

PAGE_SIZE = 50


def wide_scope_label(user) -> str | None:
    """What "everything I may see" means for this user, or None when it is only their own."""
    if user.department_id and user.has_role(Role.DEPARTMENT_HEAD):
        return _("本部门全部")
    if user.unit_id and user.has_role(Role.CUSTODIAN, Role.UNIT_HEAD):
        return _("本机构全部")
    if user.has_role(Role.OFFICER):
        return _("全部（含我参与的记录）")
    return None


@media_page
def ingest_list(request):
    user = request.user
    wide_scope = wide_scope_label(user)
    form = IngestFilterForm(request.GET or None, wide_scope=wide_scope)
    items = list_ingest_items(user)
    if form.is_bound and not form.is_valid():
        items = items.none()  # a filter that cannot be applied shows its error, not every item
    elif form.is_bound:
        items = form.apply(items, user)
    counts = {row["status"]: row["n"] for row in items.order_by().values("status").annotate(n=Count("pk"))}
    status = form.cleaned_data.get("status") if form.is_bound and form.is_valid() else ""
    listed = items.filter(status=status) if status else items
    paginator = Paginator(listed.select_related("created_by__unit", "recording"), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page_obj": page_obj,
        "sees_wide": wide_scope is not None,
        "query": query.urlencode(),
        "summary": [
            {"status": s.value, "label": s.label, "count": counts.get(s.value, 0)}
            for s in IngestStatus
        ],
        "total": sum(counts.values()),
    }
    template = "web/ingest/_results.html" if is_htmx(request) else "web/ingest/list.html"
    return render(request, template, context)
