"""The NinjaAPI instance, its authentication and its one error mapping."""

from __future__ import annotations

import functools
import logging
import sys

from csp.decorators import csp_exempt
from django.contrib.auth.views import redirect_to_login
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import (
    AuthenticationError,
    AuthorizationError,
    HttpError,
    Throttled,
    ValidationError,
)

from api.auth import API_AUTH, CsrfFailed, ScopeMissing, authenticate_token, bearer_value
from core.context import get_request_id
from core.errors import DomainError

logger = logging.getLogger("api")

DESCRIPTION = """
执法音像记录管理平台的数据接口（INT-1），供办案系统、日常监管系统和采集站调用。

## 认证

- 接口令牌：请求头 `Authorization: Bearer <令牌>`。令牌由管理员签发（`manage.py issue_token <用户名> <用途>`），
  只显示一次，平台只保存其摘要。
- 浏览器登录会话：已登录的网页可直接调用；POST 等写操作须带 `X-CSRFToken` 请求头。

令牌与会话的权限相同：只能看到该账号有权查看的记录，范围之外的记录一律按“不存在”（404）处理。

## 错误

所有错误均返回 JSON：`{"code": "<稳定代码>", "message": "<中文说明>", "request_id": "<请求编号>"}`。
常见代码：`unauthenticated`（401）、`permission_denied`（403）、`csrf_failed`（403）、`not_found`（404）、
`invalid_input`（422）。

## 上传（tus 1.0 断点续传）

原始文件通过 [tus 1.0](https://tus.io/protocols/resumable-upload) 协议上传到 `/api/v1/uploads/`
（支持 creation、creation-with-upload、termination、checksum、expiration 扩展；`X-HTTP-Method-Override`
对任何请求方法生效），任意大小的文件均可中断后续传。认证方式同上。HEAD 按原样返回创建时的
`Upload-Metadata`；下表之外的键作为客户端附加信息原样保存（入库项的 `client_metadata`），不会丢弃。
有意偏离 tus 规范之处（已完成的上传不可删除、拒绝 0 字节文件等）及其原因见 README“可续传上传”一节。
`Upload-Metadata` 中平台使用的键（值按 tus 规范做 base64 编码）：

| 键 | 含义 |
|---|---|
| `filename` | 原始文件名（执法记录仪文件名如 `DSJ-A0012345_10020301_20260315093000_0001.MP4` 会被解析出设备、执法证号与拍摄时间） |
| `filetype` | MIME 类型 |
| `unit_id` | 采集机构编号（缺省为上传人所属机构） |
| `case_number` | 案号 |
| `party` | 当事人 |
| `handler` | 承办人 |
| `place` | 地点 |
| `matter_type` | 执法事项 |
| `notes` | 备注 |
| `officer_ids` | 执法人员编号，逗号分隔 |
| `late_reason` | 逾期上传原因代码（continuous_duty、off_site、remote_area、device_fault、other） |
| `late_reason_text` | 逾期原因说明（原因为 other 时必填） |
| `sha256` | 客户端计算的 SHA-256，入库时核对 |
| `device_serial` | 设备序列号（缺省时从文件名解析） |
| `important` | 重要标记（`1` / `true`） |
| `batch` | 批次编号（网页上传页用来列出“本次上传”） |

上传完成后，`/api/v1/ingest-items` 可查询入库进度与结果；入库成功后记录出现在 `/api/v1/recordings`。
"""

def signed_in_only(view):
    """The API's schema and docs page (ninja's ``docs_decorator``): for a signed-in person or a
    valid API token only (ACC-6: the interface description is not public). A browser without
    a session is sent to sign in; anything else gets the API's 401."""

    @csp_exempt()  # Swagger UI's own inline script and CDN files; signed-in only
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or authenticate_token(request) is not None:
            return view(request, *args, **kwargs)
        if bearer_value(request) is None and "text/html" in request.headers.get("Accept", ""):
            return redirect_to_login(request.get_full_path())
        return error_response(request, 401, "unauthenticated", _("请先登录或提供有效的 API 令牌。"))

    return wrapped


api = NinjaAPI(
    title="执法音像记录管理平台 API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs_url="/docs",
    docs_decorator=signed_in_only,
    auth=API_AUTH,
)


# --- one error mapping -------------------------------------------------------------------


def _request_id(request: HttpRequest) -> str:
    return getattr(request, "request_id", "") or get_request_id()


def error_payload(request: HttpRequest, code: str, message: str, **extra) -> dict:
    return {"code": code, "message": str(message), "request_id": _request_id(request), **extra}


def error_response(
    request: HttpRequest, status: int, code: str, message: str, **extra
) -> HttpResponse:
    response = JsonResponse(
        error_payload(request, code, message, **extra),
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _domain_error(request, exc: DomainError):
    return error_response(request, exc.status, exc.code, exc.message or _("请求无法完成。"))


def _validation_error(request, exc: ValidationError):
    fields = []
    for error in exc.errors:
        loc = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("query", "body", "path", "header")
        ]
        if loc:
            fields.append(".".join(loc))
    message = (
        _("请求参数有误：%(fields)s。") % {"fields": "、".join(dict.fromkeys(fields))}
        if fields
        else _("请求参数有误。")
    )
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type", "")} for e in exc.errors
    ]
    return error_response(request, 422, "invalid_input", message, errors=errors)


def _http_error(request, exc: HttpError):
    if isinstance(exc, CsrfFailed):
        return error_response(request, 403, "csrf_failed", exc.message)
    if isinstance(exc, ScopeMissing):
        return error_response(request, 403, "token_scope_missing", exc.message)
    if isinstance(exc, AuthenticationError) or exc.status_code == 401:
        return error_response(
            request, 401, "unauthenticated", _("未登录或接口令牌无效，请重新登录或检查令牌。")
        )
    if isinstance(exc, AuthorizationError) or exc.status_code == 403:
        return error_response(request, 403, "permission_denied", _("您无权执行此操作。"))
    if isinstance(exc, Throttled):
        return error_response(request, 429, "throttled", _("请求过于频繁，请稍后再试。"))
    if exc.status_code == 404:
        return error_response(request, 404, "not_found", _("请求的资源不存在。"))
    message = exc.message if any(ord(c) > 127 for c in str(exc.message)) else _("请求无法完成。")
    return error_response(request, exc.status_code, f"http_{exc.status_code}", message)


def _not_found(request, exc):
    return error_response(request, 404, "not_found", _("请求的资源不存在。"))


def _unexpected(request, exc: Exception):
    """A bug, not bad input: log it like Django would and answer in the same JSON shape."""
    logger.error("Unhandled API error %s %s", request.method, request.path, exc_info=sys.exc_info())
    got_request_exception.send(sender=None, request=request)
    return error_response(
        request, 500, "internal_error", _("服务器内部错误，请联系管理员并提供请求编号。")
    )


api.add_exception_handler(DomainError, _domain_error)
api.add_exception_handler(ValidationError, _validation_error)
api.add_exception_handler(HttpError, _http_error)
api.add_exception_handler(Http404, _not_found)
api.add_exception_handler(Exception, _unexpected)


def not_found_view(request, *args, **kwargs):
    """Any path under /api/v1/ that no route matches: the same JSON 404."""
    return error_response(request, 404, "not_found", _("请求的接口不存在。"))


# --- routers ----------------------------------------------------------------------------

from custody.api import router as custody_router  # noqa: E402
from ingest.api import router as ingest_router  # noqa: E402
from recordings.api import router as recordings_router  # noqa: E402

api.add_router("/recordings", recordings_router)
api.add_router("/ingest-items", ingest_router)
api.add_router("/custody", custody_router)
api.add_router("", "activities.api.router")  # /cases, /activities, /documents (INT-1)
