"""The access register of one's own scope (ACC-2): who viewed the recordings I may see.

Officers see who viewed their recordings; custodians and unit heads their unit's; department
heads their department's and its subordinates', and with ``superior=1`` only what people of a
department above theirs looked at (SAMR art. 17: the superior views without asking, and the
subordinate's head sees that it did). The audit administrator's whole register is /audit/access/.
"""

from __future__ import annotations

from django.shortcuts import render

from access.selectors import list_scope_access_entries
from orgs.choices import Role
from web.views.audit import _decorate_access
from web.views.common import media_page, page_number

PER_PAGE = 50
MAX_PAGE = 200  # 10,000 entries back; older ones through the filters of the audit register


@media_page
def my_access(request):
    user = request.user
    can_filter_superior = bool(user.department_id and user.has_role(Role.DEPARTMENT_HEAD)
                               and user.department.parent_id)
    superior = can_filter_superior and request.GET.get("superior") == "1"
    number = min(page_number(request), MAX_PAGE)
    offset = (number - 1) * PER_PAGE
    rows = list(list_scope_access_entries(user, superior_only=superior)[offset : offset + PER_PAGE + 1])
    has_next = len(rows) > PER_PAGE and number < MAX_PAGE
    rows = rows[:PER_PAGE]
    _decorate_access(rows)
    return render(request, "web/access/mine.html", {
        "rows": rows,
        "page_number": number,
        "has_prev": number > 1,
        "has_next": has_next,
        "superior": superior,
        "can_filter_superior": can_filter_superior,
        "query": "superior=1&" if superior else "",
    })
