"""入库情况: what arrived and how far each file got (the custodian's check, ING-1/ING-3/ING-6)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render

from ingest.choices import IngestStatus
from ingest.selectors import list_ingest_items
from orgs.choices import Role
from web.forms import IngestFilterForm
from web.views.common import is_htmx, page

PAGE_SIZE = 50


@page
def ingest_list(request):
    user = request.user
    sees_unit = bool(user.unit_id and user.has_role(Role.CUSTODIAN, Role.UNIT_HEAD))
    form = IngestFilterForm(request.GET or None, sees_unit=sees_unit)
    items = list_ingest_items(user)
    if form.is_valid():
        items = form.apply(items, user)
    counts = {row["status"]: row["n"] for row in items.order_by().values("status").annotate(n=Count("pk"))}
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    listed = items.filter(status=status) if status else items
    paginator = Paginator(listed.select_related("created_by__unit", "recording", "duplicate_of"), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page_obj": page_obj,
        "sees_unit": sees_unit,
        "query": query.urlencode(),
        "summary": [
            {"status": s.value, "label": s.label, "count": counts.get(s.value, 0)}
            for s in IngestStatus
        ],
        "total": sum(counts.values()),
    }
    template = "web/ingest/_results.html" if is_htmx(request) else "web/ingest/list.html"
    return render(request, template, context)
