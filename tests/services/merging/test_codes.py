"""Codes that don't clash: the catalog's scheme in the editor, and renumbering in the public record."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.catalog.nodes import Level, NodeState
from app.db.models import Draft
from app.errors import Forbidden, InvalidInput
from app.services.catalogs import codes
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.merging import merge as merging
from app.services.people import accounts
from app.services.versions import lifecycle as versions
from tests.factories import ELDERLY, SYSTEM, Built, issuer, published_catalog


@pytest.fixture
def built(session: Session) -> Built:
    return published_catalog(session, ELDERLY)


def _add(session: Session, built: Built, name: str) -> tuple[Draft, NodeState]:
    draft = drafts.create_draft(session, "ceshi", actor=SYSTEM, department="101")
    state = draft_items.add_item(
        session, draft.id, parent=built.type_uid("A06"), name=name, department="101", lock=1, actor=SYSTEM
    )
    draft.status = "approved"  # the approve step has its own tests
    session.commit()
    return draft, state


def test_the_editor_numbers_new_items_by_the_catalogs_scheme(session: Session, built: Built) -> None:
    assert str(codes.scheme_of(built.catalog)) == "A/01/001/01"  # the default: today's codes
    _, classic = _add(session, built, "老年助餐服务点运营")
    assert classic.code == "A06003"
    with pytest.raises(InvalidInput, match=r"A06001：.*如 A0601"):  # today's items do not fit 山西's form
        codes.set_scheme(session, "ceshi", "A/01/01/01", actor=SYSTEM)
    with pytest.raises(InvalidInput, match="应为一级字母和二、三、四级的位数样例，以 / 分隔，如 A/01/001/01"):
        codes.set_scheme(session, "ceshi", "两位", actor=SYSTEM)
    reviewer = accounts.add_user(
        session, username="shenhe", password="correct-horse-1", role="finance_reviewer",
        jurisdiction_id=built.catalog.jurisdiction_id,
    )  # fmt: skip
    with pytest.raises(Forbidden, match="只有财政管理员可以"):
        codes.set_scheme(session, "ceshi", "A/01/001/01", actor=reviewer)


def test_a_catalog_with_two_digits_per_level_gets_two_digit_codes(session: Session) -> None:
    built = published_catalog(session, [])  # classes and types only: every code fits either scheme
    codes.set_scheme(session, "ceshi", "A/01/01/01", actor=SYSTEM)
    session.refresh(built.catalog)
    assert built.catalog.code_scheme == "A/01/01/01"
    _, item = _add(session, built, "老年助餐服务点运营")
    assert (item.level, item.code) == (Level.ITEM, "A0601")


def test_the_public_change_table_reports_a_renumbering(
    session: Session, built: Built, client: TestClient
) -> None:
    first, _ = _add(session, built, "老年助餐服务点运营")
    second, proposed = _add(session, built, "老年人能力评估服务")
    assert proposed.code == "A06003"  # both drafts proposed the next code
    for draft in (first, second):
        assert merging.merge_draft(session, draft.id, actor=SYSTEM).merged
    admin = issuer(session)
    versions.issue(
        session,
        "ceshi",
        2,
        doc_number="测财购〔2026〕3号",
        on=date(2026, 3, 2),
        today=date(2026, 3, 2),
        actor=admin,
    )
    versions.publish(session, "ceshi", 2, actor=admin)

    diff = client.get("/api/v1/catalogs/ceshi/diff", params={"from": 1, "to": 2}).json()
    moved = next(c for c in diff["changes"] if c["new"] and c["new"]["name"] == "老年人能力评估服务")
    assert (moved["kinds"], moved["new"]["code"], moved["provisional_code"]) == (
        ["新增", "编码调整"],
        "A06004",
        "A06003",
    )
    table = client.get("/api/v1/catalogs/ceshi/diff", params={"from": 1, "to": 2, "format": "csv"}).text
    rows = list(csv.reader(io.StringIO(table.lstrip("\ufeff"))))
    row = next(r for r in rows if r[4] == "老年人能力评估服务")
    assert (row[0], row[3], row[6]) == ("新增、编码调整", "A06004", "编码调整：草稿暂定 A06003")
    page = client.get("/catalogs/ceshi/changes", params={"from": 1, "to": 2}).text
    assert "申报时暂定编码 A06003" in page
