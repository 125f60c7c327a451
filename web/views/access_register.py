"""The access register of one's own scope (ACC-2): who viewed the recordings I may see.

Officers see who viewed their recordings; custodians and unit heads their unit's; department
heads their department's and its subordinates', and with ``superior=1`` only what people of a
department above theirs looked at (SAMR art. 17: the superior views without asking, and the
subordinate's head sees that it did); the legal office its department's and those below. The
same filters as the audit register, and a spreadsheet export (itself a custody event).

Supervisors (unit head, department head, legal office) also see ``view=denied``: the refused
reads of the people they answer for, and the open security findings (repeated refusals) to
acknowledge. The audit administrator's whole register is /audit/access/.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access.choices import FindingStatus
from access.findings import acknowledge_finding, findings_for
from access.selectors import can_see_denials, list_scope_access_entries, list_scope_denials
from core.errors import DomainError
from orgs.choices import Role
from web.views.audit import AccessFilterForm, _decorate_access, _export_access, _query_without_keys
from web.views.common import media_page, page, page_number

PER_PAGE = 50
MAX_PAGE = 200  # 10,000 entries back; older ones through the date filters


def _paged(request, qs):
    number = min(page_number(request), MAX_PAGE)
    offset = (number - 1) * PER_PAGE
    rows = list(qs[offset : offset + PER_PAGE + 1])
    has_next = len(rows) > PER_PAGE and number < MAX_PAGE
    return rows[:PER_PAGE], number, has_next


@media_page
def my_access(request):
    user = request.user
    can_filter_superior = bool(user.department_id and user.has_role(Role.DEPARTMENT_HEAD)
                               and user.department.parent_id)
    superior = can_filter_superior and request.GET.get("superior") == "1"
    denials_allowed = can_see_denials(user)
    showing_denials = denials_allowed and request.GET.get("view") == "denied"
    form = AccessFilterForm(request.GET or None)
    invalid = form.is_bound and not form.is_valid()
    flt = form.to_filter() if form.is_bound and not invalid else None
    if request.GET.get("format") == "xlsx" and not showing_denials:
        if invalid:
            messages.error(request, _("筛选条件有误，未导出；请先修正筛选条件。"))
            return redirect(f"{request.path}?{_query_without_keys(request)}")
        filters = {k: str(v) for k, v in (form.cleaned_data.items() if form.is_bound else ()) if v}
        if superior:
            filters["superior"] = "1"
        return _export_access(request, list_scope_access_entries(user, flt, superior_only=superior), filters)
    if showing_denials:
        rows, number, has_next = _paged(request, list_scope_denials(user).select_related("details_row"))
    elif invalid:
        rows, number, has_next = [], 1, False
    else:
        rows, number, has_next = _paged(request, list_scope_access_entries(user, flt, superior_only=superior))
        _decorate_access(rows)
    query = _query_without_keys(request)
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    page_query = params.urlencode()
    findings = list(findings_for(user).filter(status=FindingStatus.OPEN).select_related("unit")[:20])
    return render(request, "web/access/mine.html", {
        "form": form,
        "invalid": invalid,
        "filtered": form.is_filtered() if form.is_bound else False,
        "rows": rows,
        "page_number": number,
        "has_prev": number > 1,
        "has_next": has_next,
        "superior": superior,
        "can_filter_superior": can_filter_superior,
        "can_see_denials": denials_allowed,
        "showing_denials": showing_denials,
        "findings": findings,
        "query": f"{page_query}&" if page_query else "",
        "export_query": f"{query}&format=xlsx" if query else "format=xlsx",
    }, status=400 if invalid else 200)


@require_POST
@page
def acknowledge_finding_view(request, pk: int):
    try:
        acknowledge_finding(pk, actor=request.user, comment=request.POST.get("comment", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("安全提示已确认，处理意见已写入保管链。"))
    return redirect("web:my_access")
