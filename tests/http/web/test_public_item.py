"""The public item page: the item, its path and department, its history and its screening status."""

from __future__ import annotations

import re
from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.services.catalogs.authoring import stable_uid
from tests.factories import ELDERLY, Item, item_states, published_catalog
from tests.http.web.test_public_changes import next_version


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _history(text: str) -> str:
    return text.split("历次变动", 1)[1].split("负面清单筛查", 1)[0]


def _uid(key: str) -> str:
    return stable_uid("shifanshi", "item", key)


def test_renamed_item_shows_every_change_newest_first(demo_client: TestClient) -> None:
    page = demo_client.get(f"/catalogs/shifanshi/items/{_uid('i0233')}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "A06001 社区居家养老上门服务" in text
    assert "所属目录 A 基本公共服务 › A06 养老服务" in text
    assert "购买主体 民政局" in text
    rows = _history(text)
    assert rows.index("2025年版 示财购〔2025〕12号 2025年03月21日 10:00 更名") < rows.index("2024年版")
    assert "名称 原为 社区居家养老服务 → 现为 社区居家养老上门服务" in rows
    assert "服务内容 原为 为辖区内60周岁以上居家老年人提供助餐、助洁、助浴、助医等上门服务。 → 现为" in rows
    assert "2024年版 示财购〔2024〕3号 2024年03月22日 09:30 首次列入 A06001 社区居家养老服务" in rows
    # each version in the history links to the item as that version has it
    assert f'href="/catalogs/shifanshi/items/{_uid("i0233")}?version=1"' in page.text


def test_moved_item_history_names_both_places(demo_client: TestClient) -> None:
    text = _text(demo_client.get(f"/catalogs/shifanshi/items/{_uid('i1497')}").text)
    assert "所属目录 E 政府履职所需辅助性事项 › E17 信息化建设与管理" in text
    rows = _history(text)
    assert "移动 所属目录 原为 E18 后勤管理 → 现为 E17 信息化建设与管理" in rows
    assert "目录编码 原为 E18050 → 现为 E17077" in rows


def test_an_older_version_of_the_item_points_to_the_current_one(demo_client: TestClient) -> None:
    page = demo_client.get(f"/catalogs/shifanshi/items/{_uid('i0233')}?version=1")
    text = _text(page.text)
    assert "A06001 社区居家养老服务" in text
    assert "这是2024年版（第1版）中的内容， 查看现行版本" in text
    assert f'href="/catalogs/shifanshi/items/{_uid("i0233")}">查看现行版本' in page.text


def test_new_item_has_one_history_entry_and_is_absent_from_the_old_version(demo_client: TestClient) -> None:
    uid = _uid("i1780")
    rows = _history(_text(demo_client.get(f"/catalogs/shifanshi/items/{uid}").text))
    assert "2025年版 示财购〔2025〕12号 2025年03月21日 10:00 首次列入 A06020 老年助餐服务点运营服务" in rows
    assert "2024年版" not in rows
    missing = demo_client.get(f"/catalogs/shifanshi/items/{uid}?version=1")
    assert missing.status_code == 404
    assert "第1版中没有这个目录条目" in missing.text


def test_withdrawn_demo_item_stays_reachable(demo_client: TestClient) -> None:
    page = demo_client.get(f"/catalogs/shifanshi/items/{_uid('i0067')}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "A01032 中小学生暑期托管服务 已撤销" in text
    assert "该条目自2025年版（第2版，示财购〔2025〕12号）起已撤销" in text
    assert "2025年版 示财购〔2025〕12号 2025年03月21日 10:00 撤销 不再列入目录" in _history(text)


def test_screening_status_is_shown(client: TestClient, session: Session) -> None:
    built = published_catalog(session, [*ELDERLY, Item("bad", "E01", "劳务派遣服务", "103")])
    clean = _text(client.get(f"/catalogs/ceshi/items/{built.uid('i1')}").text)
    assert "筛查：未发现不宜作为政府购买服务的内容" in clean
    flagged = _text(client.get(f"/catalogs/ceshi/items/{built.uid('bad')}").text)
    assert "该条目有1处需要注意" in flagged
    assert "阻止 名称中的“劳务派遣”：《政府购买服务管理办法》（财政部令第102号）第十条第（五）项" in flagged


def test_only_published_versions_of_an_item_are_public(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY)
    changed = dict(built.states)
    changed[built.uid("i1")] = replace(changed[built.uid("i1")], name="秘密新名称")
    states = item_states("ceshi", changed, [Item("new", "A06", "未公开的新条目")])
    next_version(session, built, states, status="issued")
    page = client.get(f"/catalogs/ceshi/items/{built.uid('i1')}")
    assert page.status_code == 200
    assert "秘密新名称" not in page.text
    assert "更名" not in _history(_text(page.text))
    assert client.get(f"/catalogs/ceshi/items/{built.uid('i1')}?version=2").status_code == 404
    hidden = client.get(f"/catalogs/ceshi/items/{built.uid('new')}")
    assert hidden.status_code == 404
    assert "未公开的新条目" not in hidden.text
    assert client.get("/catalogs/ceshi/items/nope").status_code == 404
