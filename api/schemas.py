"""Schemas and helpers shared by every app's router: errors and limit/offset pages."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import AfterValidator

from core.bounds import DATE_MAX, DATE_MIN, MAX_ID, datetime_in_bounds
from core.querysets import count_capped

MAX_LIMIT = 200

# The API's bounded parameter types (core.bounds): use these for every id, day and instant.
Id = Annotated[int, Field(ge=1, le=MAX_ID, description="编号（正整数）")]
Day = Annotated[date, Field(ge=DATE_MIN, le=DATE_MAX)]


def _instant_in_bounds(value: datetime) -> datetime:
    if not datetime_in_bounds(value):
        raise ValueError(f"must be between {DATE_MIN} and {DATE_MAX}")
    return value


Instant = Annotated[datetime, AfterValidator(_instant_in_bounds)]


def _no_control_characters(value: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in value):
        raise ValueError("control characters are not allowed")
    return value


# Free text from a client (filters, a purpose): no NUL or other control characters, which no
# database column stores (PostgreSQL refuses NUL) and no person types. Bound its length with
# Field(max_length=...) where it is used.
Text = Annotated[str, AfterValidator(_no_control_characters)]


class ErrorOut(Schema):
    code: str = Field(description="稳定的错误代码（英文，供程序判断）")
    message: str = Field(description="错误说明（中文，供人阅读）")
    request_id: str = Field(description="请求编号，排查问题时请提供")


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="每页条数（1–200）")
    offset: int = Field(0, ge=0, le=1_000_000, description="跳过的条数")


def page_of(qs: QuerySet, params: PageParams, *, cap: int | None = None) -> dict:
    """One page plus a capped count: ``count`` stops at ``cap``; ``count_capped`` says it did."""
    count, capped = count_capped(qs, cap)
    items = list(qs[params.offset : params.offset + params.limit])
    return {
        "count": count,
        "count_capped": capped,
        "limit": params.limit,
        "offset": params.offset,
        "items": items,
    }


class PageMeta(Schema):
    count: int = Field(description="符合条件的总数（超过 10000 时为 10000）")
    count_capped: bool = Field(description="总数是否超过上限而被截断")
    limit: int
    offset: int
