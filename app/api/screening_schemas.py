"""The screening API's public contract."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.services.screening.drafts import MAX_SCREEN_ITEMS


class ScreenItemIn(BaseModel):
    name: str = Field(max_length=500, description="目录名称（三级或四级）", examples=["机关食堂劳务派遣服务"])
    description: str = Field(default="", max_length=10_000, description="服务内容")


class ScreenIn(BaseModel):
    items: list[ScreenItemIn] = Field(
        description=f"待筛查的条目，每次最多 {MAX_SCREEN_ITEMS:,} 个；请求体最大 1 MB",
    )


class FindingBrief(BaseModel):
    rule: str = Field(description="规则编号，如 X10-5-dispatch")
    article: str = Field(description="法律依据，如《政府购买服务管理办法》第十条第（五）项")
    severity: str = Field(description="block：送审时阻止；warn：提示")
    match: str = Field(description="命中的文字（规范化后的文本）")


class ScreenResult(BaseModel):
    row: int = Field(description="条目在请求中的序号（从 1 开始）；文件筛查时为 Excel 行号")
    name: str
    findings: list[FindingBrief]


class ScreenOut(BaseModel):
    rules_version: str = Field(description="所用负面清单规则的版本")
    results: list[ScreenResult]


class VersionFindingOut(BaseModel):
    uid: str
    code: str
    name: str
    department: str | None = Field(description="购买主体（部门）编码")
    department_name: str | None
    rule: str
    head: int = Field(description="第十条第几项（1–6）")
    article: str
    severity: str
    field: str = Field(description="name：名称；description：服务内容")
    match: str
    explanation: str
    rules_version: str


class VersionFindingsOut(BaseModel):
    catalog: str
    version: int
    count: int
    findings: list[VersionFindingOut]


class RuleCountOut(BaseModel):
    rule: str
    head: int
    article: str
    severity: str
    findings: int
    items: int = Field(description="命中该规则的条目数")


class VersionScreeningOut(BaseModel):
    catalog: str
    version: int
    rules_version: str
    items: int = Field(description="筛查的三级、四级目录数")
    flagged: int = Field(description="有命中的条目数")
    findings: int
    by_rule: list[RuleCountOut]


class DraftFindingOut(BaseModel):
    uid: str
    code: str
    name: str
    rule: str
    head: int
    article: str
    severity: str
    field: str
    match: str
    explanation: str
    rules_version: str
    override: str | None = Field(description="财政审核人确认例外的理由；未确认时为 null")
    blocks: bool = Field(description="是否阻止送审（block 且未确认例外）")


class OverrideIn(BaseModel):
    uid: str = Field(description="条目的 uid")
    rule: str = Field(description="要确认例外的阻止性规则编号")
    reason: str = Field(max_length=2000, description="理由（必填）")


class OverrideOut(BaseModel):
    draft_id: int
    uid: str
    rule: str
    reason: str
    by: str
    at: datetime
