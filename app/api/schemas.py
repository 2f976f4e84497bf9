"""The API's public contract."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class JurisdictionOut(BaseModel):
    code: str = Field(description="6位行政区划代码")
    name: str


class CatalogOut(BaseModel):
    slug: str
    name: str
    jurisdiction: JurisdictionOut
    framework: str
    publication_period_days: int
    latest_version: int | None = Field(description="最新公开版本的序号")
    versions_url: str


class VersionOut(BaseModel):
    seq: int
    label: str
    status: str
    doc_number: str | None
    issued_on: date | None
    publication_deadline: date | None
    published_at: datetime | None
    nodes_url: str


class DepartmentOut(BaseModel):
    code: str
    name: str


class NodeOut(BaseModel):
    uid: str = Field(description="节点的稳定标识，跨版本不变")
    parent: str | None = Field(description="上级节点的 uid")
    level: int = Field(ge=1, le=4)
    code: str
    name: str
    description: str
    department: DepartmentOut | None
    path: list[str] = Field(description="上级目录名称，从一级目录开始")
    note: str = ""


class NodePage(BaseModel):
    catalog: str
    version: int
    items: list[NodeOut]
    next: str | None = Field(description="下一页的地址；没有更多时为 null")
