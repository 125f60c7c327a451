"""The NinjaAPI instance, its authentication and its one error mapping."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="执法音像记录管理平台 API",
    version="1",
    description="执法音像记录的上传（tus 1.0，见 /api/v1/uploads/）、检索、播放与保管链查询接口。"
    "认证：请求头 `Authorization: Bearer <令牌>`，或浏览器登录会话。",
    urls_namespace="api",
    docs_url="/docs",
)
