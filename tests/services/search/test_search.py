"""Search: the pure text keys, the index written at publication, the API and page, both databases alike."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog import search_text
from app.catalog.search_text import Field, Span
from app.db import search_query
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import SearchEntry
from app.services.demo import load_demo
from app.services.search import index as search_index
from app.services.search import query as search
from app.services.search.query import SearchQuery
from app.services.versions import lifecycle as versions
from tests.databases import SERVER_URL, create_database, drop_database
from tests.factories import CATALOGS, ELDERLY, SYSTEM, Item, published_catalog

HX = {"HX-Request": "true"}

# ---- pure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("养老", ["养老"]),
        ("  养老　保洁 养老 ", ["养老", "保洁"]),  # full-width space splits too; repeats dropped
        ("YangLao", ["yanglao"]),
        ("a\x00b", ["a", "b"]),
        ("", []),
        ("一 二 三 四 五 六", ["一", "二", "三", "四", "五"]),
    ],
)
def test_terms(query: str, expected: list[str]) -> None:
    assert search_text.terms(query) == expected


@pytest.mark.parametrize(
    ("name", "pinyin", "initials"),
    [
        ("社区居家养老服务", "shequjujiayanglaofuwu", "sqjjylfw"),
        ("重点人群健康管理", "zhongdianrenqunjiankangguanli", "zdrqjkgl"),  # 重 read zhong here
        ("重新就业培训", "chongxinjiuyepeixun", "cxjypx"),  # and chong here
        ("银行业务咨询", "yinhangyewuzixun", "yhywzx"),  # 行 hang
        ("行政执法辅助", "xingzhengzhifafuzhu", "xzzffz"),  # 行 xing
        ("APP运维（二期）", "appyunweierqi", "appyweq"),  # letters kept, brackets dropped
    ],
)
def test_pinyin_keys_take_the_common_reading(name: str, pinyin: str, initials: str) -> None:
    k = search_text.keys(name, "")
    assert (k.pinyin, k.initials) == (pinyin, initials)


@pytest.mark.parametrize(
    ("name", "description", "words", "expected"),
    [
        ("社区居家养老服务", "", ["养老"], [Span(Field.NAME, 4, 6)]),
        ("社区居家养老服务", "", ["yanglao"], [Span(Field.NAME, 4, 6)]),
        ("社区居家养老服务", "", ["ylfw"], [Span(Field.NAME, 4, 8)]),
        ("社区居家养老服务", "", ["angl"], [Span(Field.NAME, 4, 6)]),  # letters inside two syllables
        ("养老", "为养老机构服务", ["养老", "服务"],
         [Span(Field.NAME, 0, 2), Span(Field.DESCRIPTION, 1, 3), Span(Field.DESCRIPTION, 5, 7)]),
        ("Ab养老", "", ["ab", "b养"], [Span(Field.NAME, 0, 3)]),  # overlapping matches merge
        ("保洁服务", "", ["养老"], []),
    ],
)  # fmt: skip
def test_spans_mark_what_matched(name: str, description: str, words: list[str], expected: list[Span]) -> None:
    assert search_text.spans(name, description, words) == expected


def test_two_character_tokens_are_letters_and_a_single_character_is_their_prefix() -> None:
    grams = search_text.keys("养老", "").gram_tokens().split()
    assert search_text.token("养老") in grams
    assert all(re.fullmatch("[a-p]{12}", g) for g in grams)
    # the last character of a field has a bigram with the end marker: 老 alone still finds it
    assert any(g.startswith(search_text.token("老")) for g in grams)
    assert not any(g.startswith(search_text.token("保")) for g in grams)


# ---- the index and the service --------------------------------------------------------

MORE = [
    Item("m1", "A06", "农村互助养老服务点运营", "101", "支持农村互助养老服务点日常运营。"),
    Item("m2", "A09", "公共区域保洁服务", "103", "负责公共区域日常保洁与垃圾清运。"),
    Item("m3", "E01", "重点人群法律援助", "103", "为重点人群提供法律援助服务。"),
]


def _uids(page: search.SearchPage) -> list[str]:
    return [h.hit.uid for h in page.hits]


def test_reindex_finds_two_character_words_phrases_and_pinyin(session: Session) -> None:
    built = published_catalog(session, ELDERLY + MORE)
    assert search_index.reindex(session) == len(ELDERLY + MORE)
    cases = {
        "养老": ["i1", "i2", "m1"],  # in a name or a description, in tree order (A06 before A09 before E01)
        "保洁": ["m2"],
        "养老服务": ["i1", "m1"],
        "yanglao": ["i1", "i2", "m1"],
        "ylfw": ["i1", "m1"],
        "yl": ["i1", "i2", "m1"],
        "助餐": ["i1", "i5"],  # 四级 items too
        "法律援助": ["m3"],
        "zhongdian": ["m3"],  # 重 in 重点 is zhong, not chong
        "chongdian": [],
        "养老 评估": ["i2"],  # every term must match
        "殡葬": [],
    }
    for q, keys in cases.items():
        page = search.search(session, SearchQuery(q=q))
        assert _uids(page) == [built.uid(k) for k in keys], q
        assert page.total == len(keys), q


def test_single_characters_use_the_bigram_prefix_not_a_scan(session: Session) -> None:
    built = published_catalog(session, ELDERLY + MORE)
    search_index.reindex(session)
    # 洁 ends the description of m2's "…保洁与…" and 务 ends names: every position counts
    assert _uids(search.search(session, SearchQuery(q="洁"))) == [built.uid("i1"), built.uid("m2")]
    assert built.uid("i3") in _uids(search.search(session, SearchQuery(q="务")))


def test_filters_by_class_type_department_and_catalog(session: Session) -> None:
    built = published_catalog(session, ELDERLY + MORE)
    search_index.reindex(session)

    def found(**kw: str) -> list[str]:
        return _uids(search.search(session, SearchQuery(q="服务", **kw)))  # type: ignore[arg-type]

    everything = found()
    assert len(everything) == len(ELDERLY + MORE)
    assert found(type_code="A06") == [built.uid(k) for k in ("i1", "i5", "i2", "m1")]
    assert found(class_code="E") == [built.uid("i4"), built.uid("m3")]
    assert found(department="102") == [built.uid("i3")]
    assert found(catalog="ceshi") == everything
    assert found(jurisdiction="990100") == everything


def test_results_are_grouped_by_type_with_the_tree_link(session: Session) -> None:
    built = published_catalog(session, ELDERLY + MORE)
    search_index.reindex(session)
    page = search.search(session, SearchQuery(q="养老"))
    assert [(g.type_code, len(g.hits)) for g in page.groups] == [("A06", 3)]
    hit = page.groups[0].hits[0]
    assert (hit.catalog_slug, hit.version_seq, hit.hit.type_uid) == ("ceshi", 1, built.type_uid("A06"))
    assert hit.hit.path == "基本公共服务 › 养老服务"


def test_pages_follow_the_cursor_and_the_count_is_capped(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [Item(f"p{n}", "A06", f"养老项目{n:02d}", "101") for n in range(1, 8)]
    built = published_catalog(session, items)
    search_index.reindex(session)
    first = search.search(session, SearchQuery(q="养老", limit=3))
    assert (first.total, first.capped, first.next_after is not None) == (7, False, True)
    second = search.search(session, SearchQuery(q="养老", limit=3, after=first.next_after or 0))
    third = search.search(session, SearchQuery(q="养老", limit=3, after=second.next_after or 0))
    assert _uids(first) + _uids(second) + _uids(third) == [built.uid(f"p{n}") for n in range(1, 8)]
    assert third.next_after is None
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    capped = search.search(session, SearchQuery(q="养老", limit=3))
    assert (capped.total, capped.capped) == (5, True)
    monkeypatch.setattr(search, "COUNT_CAP", 2)  # the page reaches past what was counted
    short = search.search(session, SearchQuery(q="养老", limit=3))
    assert (short.total, _uids(short)) == (2, [built.uid(f"p{n}") for n in range(1, 4)])


def test_publishing_a_version_indexes_it_and_the_newest_is_searched(session: Session) -> None:
    built = published_catalog(session, ELDERLY, later=MORE, status="issued")
    search_index.reindex(session)  # version 1 only: version 2 is issued, not public
    assert _uids(search.search(session, SearchQuery(q="保洁"))) == []
    versions.publish(session, "ceshi", 2, at=datetime(2025, 3, 20, 2, tzinfo=UTC), actor=SYSTEM)
    assert _uids(search.search(session, SearchQuery(q="保洁"))) == [built.uid("m2")]
    # the newest version by default (i1 once, not once per version); an older one when asked
    assert _uids(search.search(session, SearchQuery(q="居家养老"))) == [built.uid("i1")]
    older = search.search(session, SearchQuery(q="保洁", catalog="ceshi", version=1))
    assert _uids(older) == []
    assert session.scalar(select(func.count()).select_from(SearchEntry)) == 2 * len(ELDERLY) + len(MORE)


def test_publishing_over_http_answers_first_and_indexes_right_after(
    session: Session, client: TestClient
) -> None:
    from app.services.people import accounts as people
    from app.services.search import worker

    built = published_catalog(session, ELDERLY, later=MORE, status="issued")
    people.add_user(
        session,
        username="admin",
        password="password-1",
        role="finance_admin",
        jurisdiction_id=built.catalog.jurisdiction_id,
    )
    session.commit()
    token = {"Authorization": f"Bearer {people.create_token(session, 'admin', actor=SYSTEM)}"}
    search_index.reindex(session)
    session.commit()
    answer = client.post("/api/v1/catalogs/ceshi/versions/2/publish", headers=token)
    assert answer.status_code == 200, answer.text
    worker.drain()  # the worker process the publication started after its commit
    found = client.get("/api/v1/search", params={"q": "保洁"}).json()
    assert [item["uid"] for item in found["items"]] == [built.uid("m2")]
    assert search_index.index_unindexed(client.app.state.sessions) == 0  # type: ignore[attr-defined]


def _publish_unindexed(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Publish version 2 as an app would that stopped before its indexing ran."""
    from app.services.search import worker

    with monkeypatch.context() as patched:
        patched.setattr(worker, "catch_up", lambda *_a, **_k: None)
        versions.publish(session, "ceshi", 2, at=datetime(2025, 3, 20, 2, tzinfo=UTC), actor=SYSTEM)


def test_a_published_version_missing_from_the_index_is_picked_up(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.db.engine import make_sessionmaker as sessions_for

    built = published_catalog(session, ELDERLY, later=MORE, status="issued")
    _publish_unindexed(session, monkeypatch)
    assert _uids(search.search(session, SearchQuery(q="保洁"))) == []
    written = search_index.index_unindexed(sessions_for(session.get_bind()))  # type: ignore[arg-type]
    # version 2, and version 1 (published unindexed by the factory, superseded now, still public)
    assert written == len(ELDERLY) + len(MORE) + len(ELDERLY)
    session.expire_all()
    assert _uids(search.search(session, SearchQuery(q="保洁"))) == [built.uid("m2")]
    in_first = search.search(session, SearchQuery(q="保洁", catalog="ceshi", version=1))
    assert _uids(in_first) == []  # 保洁 came with version 2
    assert _uids(search.search(session, SearchQuery(q="养老", catalog="ceshi", version=1)))


def test_background_indexing_commits_in_batches_and_a_failed_attempt_leaves_nothing_behind(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.db import search_store
    from app.db.engine import make_sessionmaker as sessions_for

    built = published_catalog(session, ELDERLY, later=MORE, status="issued")
    search_index.reindex(session)  # version 1
    _publish_unindexed(session, monkeypatch)
    monkeypatch.setattr(search_index, "_BATCH", 2)  # several commits for this small version
    real_insert, calls = search_store.insert_entries, []

    def insert_failing_once(session: Session, rows: list[dict[str, object]], texts: object) -> None:
        calls.append(len(rows))
        if len(calls) == 3:  # the first attempt dies after two committed batches
            raise RuntimeError("the disk is full")
        real_insert(session, rows, texts)  # type: ignore[arg-type]

    monkeypatch.setattr(search_store, "insert_entries", insert_failing_once)
    written = search_index.index_unindexed(sessions_for(session.get_bind()))  # type: ignore[arg-type]
    items = len(ELDERLY) + len(MORE)
    assert written == items
    assert calls[:2] == [2, 2]
    assert len(calls) == 3 + -(-items // 2)  # the second attempt wrote all
    session.expire_all()
    [_, recorded] = search_store.indexed_versions(session)
    ids = sorted(session.scalars(select(SearchEntry.id).where(SearchEntry.version_id == recorded.version_id)))
    assert len(ids) == items  # the first attempt's committed batches are gone
    assert (recorded.first_id, recorded.last_id, recorded.items) == (ids[0], ids[-1], items)
    assert ids == list(range(ids[0], ids[0] + items))
    assert _uids(search.search(session, SearchQuery(q="保洁"))) == [built.uid("m2")]


def test_a_search_range_never_spans_ids_no_recorded_version_owns(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.db import search_store
    from app.db.search_store import IndexedVersion

    recorded = [IndexedVersion(1, 1, 10, 10), IndexedVersion(2, 11, 20, 10), IndexedVersion(3, 31, 40, 10)]
    monkeypatch.setattr(search_store, "indexed_versions", lambda _session: recorded)
    # 21..30: entries of an indexing that stopped part-way; never searched
    assert search._ranges(None, {1, 2, 3}) == [(1, 20), (31, 40)]  # type: ignore[arg-type]
    assert search._ranges(None, {1, 3}) == [(1, 10), (31, 40)]  # type: ignore[arg-type]


def test_drafts_and_unpublished_versions_are_not_searchable(session: Session) -> None:
    published_catalog(session, ELDERLY, later=MORE, status="assembling")
    search_index.reindex(session)
    assert _uids(search.search(session, SearchQuery(q="法律援助"))) == []


def test_reindex_of_one_catalog_replaces_its_entries(session: Session) -> None:
    published_catalog(session, ELDERLY)
    search_index.reindex(session)
    search_index.reindex(session, catalog="ceshi")
    assert session.scalar(select(func.count()).select_from(SearchEntry)) == len(ELDERLY)
    assert len(search.search(session, SearchQuery(q="养老")).hits) == 2


# ---- HTTP -----------------------------------------------------------------------------


def test_api_answers_json_with_highlights_urls_and_a_cursor(client: TestClient, session: Session) -> None:
    built = published_catalog(session, ELDERLY + MORE)
    search_index.reindex(session)
    body = client.get("/api/v1/search", params={"q": "ylfw", "limit": 1}).json()
    assert (body["total"], body["total_capped"], body["next"] is not None) == (2, False, True)
    item = body["items"][0]
    assert item["uid"] == built.uid("i1")
    assert item["name"] == "社区居家养老服务"
    assert item["highlight"] == [{"field": "name", "start": 4, "end": 8}]
    assert item["catalog"] == {"slug": "ceshi", "name": "测试市政府购买服务指导性目录"}
    assert item["department"] == {"code": "101", "name": "民政局"}
    assert item["url"] == f"/catalogs/ceshi/versions/1/types/{built.type_uid('A06')}#item-{built.uid('i1')}"
    nxt = client.get(body["next_url"]).json()
    assert [i["uid"] for i in nxt["items"]] == [built.uid("m1")]
    assert nxt["next"] is None
    assert client.get("/api/v1/search", params={"q": "x", "catalog": "nope"}).status_code == 404
    assert client.get("/api/v1/search", params={"q": "x", "version": 1}).status_code == 422


def test_page_works_without_javascript_and_escapes_what_it_marks(
    client: TestClient, session: Session
) -> None:
    built = published_catalog(session, [*ELDERLY, Item("x1", "A06", "<b>养老</b>&助餐", "101")])
    search_index.reindex(session)
    page = client.get("/search", params={"q": "养老"})
    assert page.status_code == 200
    assert '<form class="search-form" method="get" action="/search"' in page.text
    assert "&lt;b&gt;<mark>养老</mark>&lt;/b&gt;&amp;助餐" in page.text
    assert "<b>" not in page.text.split('id="search-results"')[1]
    link = f'href="/catalogs/ceshi/versions/1/types/{built.type_uid("A06")}#item-{built.uid("i1")}"'
    assert link in page.text
    fragment = client.get("/search", params={"q": "保洁 不存在"}, headers=HX)
    assert fragment.text.startswith('<div id="search-results"')
    assert "没有找到与“保洁 不存在”匹配的目录条目" in fragment.text
    assert "<html" not in fragment.text


def test_page_filters_are_forms_fields(client: TestClient, session: Session) -> None:
    published_catalog(session, ELDERLY)
    search_index.reindex(session)
    page = client.get("/search", params={"q": "服务", "catalog": "ceshi", "type": "A06"})
    assert '<option value="A06" selected>' in page.text
    assert '<option value="101">民政局</option>' in page.text  # departments once a catalog is chosen
    assert page.text.count('class="hit"') == 3


# ---- SQLite and PostgreSQL give the same answers --------------------------------------

SAME_QUERIES = [
    "养老", "保洁", "服务", "培训", "老", "洁", "养老服务", "居家养老上门", "社会救助",
    "yanglao", "ylfw", "yl", "fw", "baojie", "zhongdian", "shequ", "养老 培训", "法律 yuanzhu",
    "100%", "a_b", "（", "第三方", "y",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, Session]]:
    if not SERVER_URL:
        pytest.skip("set TEST_DATABASE_URL to compare SQLite with PostgreSQL")
    folder: Path = tmp_path_factory.mktemp("pair")
    urls = [
        create_database(b, f"guidecat_test_search_{os.getpid()}", folder) for b in ("sqlite", "postgresql")
    ]
    engines = [make_engine(u) for u in urls]
    sessions = []
    for url, engine in zip(urls, engines, strict=True):
        upgrade(url)
        s = make_sessionmaker(engine)()
        load_demo(s, CATALOGS)
        sessions.append(s)
    yield sessions[0], sessions[1]
    for s, engine, url, backend in zip(sessions, engines, urls, ("sqlite", "postgresql"), strict=True):
        s.close()
        engine.dispose()
        drop_database(backend, url)


@pytest.mark.parametrize("q", SAME_QUERIES)
def test_sqlite_and_postgresql_give_the_same_results(demo_pair: tuple[Session, Session], q: str) -> None:
    lite, pg = demo_pair

    def answer(s: Session, **kw: object) -> tuple[int, list[tuple[str, list[Span]]]]:
        page = search.search(s, SearchQuery(q=q, limit=200, **kw))  # type: ignore[arg-type]
        return page.total, [(h.hit.uid, h.spans) for h in page.hits]

    assert answer(lite) == answer(pg)
    assert answer(lite, catalog="shifanshi", version=1, class_code="A") == answer(
        pg, catalog="shifanshi", version=1, class_code="A"
    )


@pytest.mark.parametrize("plan", ["scan", "indexed", "mixed", "dense"])
@pytest.mark.parametrize("q", ["养老", "服务", "yl", "养老服务", "ylfw", "老", "助餐 服务"])
def test_every_postgresql_plan_gives_sqlites_answer(
    demo_pair: tuple[Session, Session], monkeypatch: pytest.MonkeyPatch, plan: str, q: str
) -> None:
    lite, pg = demo_pair
    expected = search.search(lite, SearchQuery(q=q, limit=60))
    if plan != "scan":  # the demo's ranges are small: make every range "large", so sampled
        monkeypatch.setattr(search_query, "_SMALL_RANGE", 0)
    if plan == "dense":  # and every sample "dense" (the count is then reported as capped)
        monkeypatch.setattr(search_query, "_DENSE_SAMPLE_HITS", 0)
        monkeypatch.setattr(search, "COUNT_CAP", 0)
    if plan == "mixed":  # or dense enough to walk for a page, not for the count
        monkeypatch.setattr(search_query, "_DENSE_SAMPLE_HITS", 10**6)
        monkeypatch.setattr(search_query, "_MIXED_RATIO", 10**9)
    if plan == "indexed":
        monkeypatch.setattr(search_query, "_DENSE_SAMPLE_HITS", 10**6)
        monkeypatch.setattr(search_query, "_MIXED_RATIO", 0)
    chosen: list[object] = []
    real_plan = search_query._plan
    monkeypatch.setattr(
        search_query, "_plan", lambda *a, **kw: chosen.append(real_plan(*a, **kw)) or chosen[-1]
    )
    got = search.search(pg, SearchQuery(q=q, limit=60))
    assert {p.value for p in chosen} == {"scan_dense" if plan == "dense" else plan}  # type: ignore[attr-defined]
    assert [(h.hit.uid, h.spans) for h in got.hits] == [(h.hit.uid, h.spans) for h in expected.hits]
    if plan != "dense":
        assert got.total == expected.total


def test_the_comparison_is_not_vacuous(demo_pair: tuple[Session, Session]) -> None:
    lite, _pg = demo_pair
    totals = {q: search.search(lite, SearchQuery(q=q)).total for q in ("养老", "yanglao", "ylfw", "养老服务")}
    assert all(n > 5 for n in totals.values()), totals


def test_the_indexing_worker_reports_its_failure_in_the_log_and_raises_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.engine import make_url

    from app.services.search import worker

    worker.run_worker(make_url(f"sqlite:///{tmp_path}/no-such-folder/db.sqlite"))
    [record] = [r for r in caplog.records if "indexing worker failed" in r.getMessage()]
    assert "Traceback" in record.getMessage() or "错误" in record.getMessage()


def test_publications_while_the_worker_runs_queue_one_more_worker_not_one_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys
    import threading

    from sqlalchemy.engine import make_url

    from app.services.search import worker

    started, release, runs = threading.Event(), threading.Event(), []

    def run(command: list[str], **_kwargs: object) -> subprocess.CompletedProcess[str]:
        runs.append(command)
        started.set()
        assert release.wait(60)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)  # the worker calls it as subprocess.run
    url = make_url(f"sqlite:///{tmp_path}/db.sqlite")
    running = threading.Thread(target=worker.run_worker, args=(url,))
    running.start()
    assert started.wait(60)
    queued = threading.Thread(target=worker.run_worker, args=(url,))  # a publication during the run
    queued.start()
    while not worker._waiting:  # wait until it queued (a condition, not a time)
        threading.Event().wait(0.01)
    worker.run_worker(url)  # two more publications: each returns at once, the queued worker covers them
    worker.run_worker(url)
    assert len(runs) == 1
    release.set()
    running.join()
    queued.join()
    assert runs == [[sys.executable, "-m", "app.services.search.worker"]] * 2


def test_one_indexer_at_a_time_across_connections(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from app.db import search_store
    from app.db.engine import make_sessionmaker as sessions_for
    from app.services.search import worker

    published_catalog(session, ELDERLY, later=MORE, status="issued")
    monkeypatch.setattr(worker, "catch_up", lambda *_a, **_k: None)  # leave it for the indexer below
    versions.publish(session, "ceshi", 2, at=datetime(2025, 3, 20, 2, tzinfo=UTC), actor=SYSTEM)
    written: list[int] = []
    blocked = threading.Event()
    sessions = sessions_for(session.get_bind())  # type: ignore[arg-type]
    other = threading.Thread(
        target=lambda: written.append(search_index.index_unindexed(sessions, waiting=blocked.set))
    )
    with search_store.one_indexer(session):  # as another process's indexer would hold it
        other.start()
        assert blocked.wait(60)  # it found the lock taken and waits for it
        assert written == []
    other.join()
    assert written == [len(ELDERLY) + len(MORE) + len(ELDERLY)]
