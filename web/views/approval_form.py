"""The external provision approval form as a PDF download (access.approval_form, ACC-1)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from access.approval_form import issue_approval_form
from access.requests import get_request
from core.errors import DomainError
from core.pdf import PdfFontMissing
from web.views.common import page


@page
def access_request_form(request, pk: int):
    access_request = get_request(request.user, pk)
    if access_request is None:
        raise Http404(_("申请不存在或您无权查看。"))
    try:
        pdf = issue_approval_form(access_request, request.user)
    except PdfFontMissing as exc:
        return render(request, "web/error.html", {"message": exc.message}, status=503)
    except DomainError as exc:
        return render(request, "web/error.html", {"message": exc.message}, status=exc.status)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = _("对外提供审批表-%(pk)s.pdf") % {"pk": access_request.pk}
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response
