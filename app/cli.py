"""`guidecat …`: thin wrappers over the services.

Every command exits non-zero with a message on stderr, never a traceback, on a user's mistake.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date

from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import CatalogError
from app.screening import Matcher

Command = Callable[[argparse.Namespace, Settings], int]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    os.environ["DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "app.main:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        proxy_headers=True,
    )
    return 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from app.db.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"数据库已迁移到 {args.revision}：{_safe_url(settings.database_url)}")
    return 0


def _db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    from app.db.migrate import downgrade

    downgrade(settings.database_url, args.revision)
    print(f"数据库已回退到 {args.revision}")
    return 0


def _demo_load(args: argparse.Namespace, settings: Settings) -> int:
    from app.db.engine import make_engine, make_sessionmaker
    from app.services.demo import LoadMode, load_demo

    mode = LoadMode.IF_EMPTY if args.if_empty else LoadMode.ALWAYS
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            result = load_demo(session, settings.catalogs_dir, mode=mode)
    finally:
        engine.dispose()
    if result.created:
        print(f"已载入示范目录 {result.catalog_slug}：{result.items} 个三级/四级目录，2 个已公开版本")
    elif not result.present:
        print("数据库中已有其他目录，未载入示范数据")
        return 0
    else:
        print(f"示范目录 {result.catalog_slug} 已存在，未重复载入")
    if args.print_logins:
        print("演示账号（用户名 / 密码 / 角色）：")
        for u in result.users:
            print(f"  {u['username']:<10} {u['password']:<16} {u['role']}")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from contextlib import nullcontext

    from app.db.engine import make_engine, make_sessionmaker
    from app.services import exports
    from app.services.export_formats import Charset

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            target = exports.find(session, args.catalog, args.version)
            fmt, charset = exports.Format(args.format), Charset(args.charset)
            to_stdout = args.output in (None, "-")
            with nullcontext(sys.stdout.buffer) if to_stdout else open(args.output, "wb") as out:
                exports.write(session, target, fmt, out, bom=args.bom, charset=charset)
                out.flush()
    except BrokenPipeError:
        # the reader stopped early (`| head`): end quietly, as a tool killed by SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        engine.dispose()
    if to_stdout:
        return 0
    ver = target.version
    print(f"已导出 {target.catalog.slug} 第{ver.seq}版（{ver.label}，{ver.status}）到 {args.output}")
    return 0


CLI_MAX_IMPORT_BYTES = 2 * 1024**3  # the command line runs on the server; a province file is ~130 MB


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.db.engine import make_engine, make_sessionmaker
    from app.services.import_report import problems_table, write_report_xlsx
    from app.services.imports import ImportMode, ImportRequest, import_file, report_table

    path = Path(args.file)
    request = ImportRequest(
        catalog=args.catalog,
        data=path.read_bytes(),
        filename=path.name,
        department=args.department,
        sheet=args.sheet,
        mode=ImportMode.DRY_RUN if args.dry_run else ImportMode.WRITE,
        max_bytes=CLI_MAX_IMPORT_BYTES,
    )
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            result = import_file(session, request, actor=None, catalogs_dir=settings.catalogs_dir)
    finally:
        engine.dispose()
    if result.problems:
        print(problems_table(result.problems), file=sys.stdout if result.ok else sys.stderr)
    if args.report:
        with open(args.report, "wb") as out:
            write_report_xlsx(report_table(result), result.problems, out)
    if not result.ok:
        errors = sum(1 for p in result.problems if p.severity == "error")
        print(f"校验未通过：{errors} 个错误，未写入任何数据", file=sys.stderr)
        return 1
    c = result.counts
    summary = f"校验通过：{result.rows} 行；新增 {c.added}，修改 {c.changed}，撤销 {c.withdrawn}"
    print(f"{summary}（试导入，未写入）" if args.dry_run else f"{summary}；已生成草稿 #{result.draft_id}")
    return 0


def _session(settings: Settings) -> Iterator[Session]:
    from app.db.engine import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _diff(args: argparse.Namespace, settings: Settings) -> int:
    from app.api.changes import _diff_body
    from app.services import browse, history, versions

    for session in _session(settings):
        catalog = browse.catalog(session, args.catalog)
        a = versions.get_version(session, args.catalog, args.from_)
        b = versions.get_version(session, args.catalog, args.to)
        comparison = history.compare_versions(session, catalog, a, b)
        names = browse.department_names(session, catalog)
    if args.format == "json":
        print(_diff_body(args.catalog, comparison, a.seq, b.seq, None).model_dump_json(indent=1))
        return 0
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(history.CHANGE_TABLE_COLUMNS)
        writer.writerows(history.change_table(comparison, names))
        return 0
    for label, old_code, old_name, new_code, new_name, dept, fields, _uid in history.change_table(
        comparison, names
    ):
        old, new = f"{old_code} {old_name}".strip(), f"{new_code} {new_name}".strip()
        arrow = f"{old} → {new}" if old and new and old != new else old or new
        print(f"{label}\t{arrow}{f'（{fields}）' if fields else ''}\t{dept}")
    return 0


def _user_add(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import people

    password = sys.stdin.readline().rstrip("\n")
    for session in _session(settings):
        people.add_user_in(
            session,
            username=args.username,
            password=password,
            role=args.role,
            jurisdiction=args.jurisdiction,
            department=args.department,
        )
    print(f"已创建用户 {args.username}（{args.role}）")
    return 0


def _user_disable(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import people

    for session in _session(settings):
        people.set_active(session, args.username, active=False)
    print(f"已停用用户 {args.username}：其登录会话和 API 令牌立即失效")
    return 0


def _user_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import people

    password = sys.stdin.readline().rstrip("\n")
    for session in _session(settings):
        people.reset_password(session, args.username, password)
    print(f"已重置用户 {args.username} 的密码：原有登录会话全部失效")
    return 0


def _token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import people

    for session in _session(settings):
        people.revoke_token(session, args.token_id)
    print(f"已吊销令牌 {args.token_id}")
    return 0


def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import people

    for session in _session(settings):
        token = people.create_token(session, args.username, label=args.label)
        print(token)  # stdout holds the token alone, for scripts
        print(
            f"令牌编号 {people.token_id(session, token)}（吊销：guidecat token revoke 编号）", file=sys.stderr
        )
    return 0


def _iso_date(text: str) -> date:
    from app.calendar.yearfile import ISO_DAY

    try:
        if ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"“{text}”不是 YYYY-MM-DD 格式的有效日期")


def _working_days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"工作日数应为非负整数，而不是“{text}”")
    return int(text)


def _workdays_add(args: argparse.Namespace, settings: Settings) -> int:
    from app.calendar.days import CalendarYearMissing
    from app.services import workdays

    try:
        for session in _session(settings):
            print(workdays.add_days(session, args.date, args.days).isoformat())
    except CalendarYearMissing as exc:  # §11: exit 2 where the calendar has no data
        print(f"错误：{exc.message}", file=sys.stderr)
        return 2
    return 0


def _calendar_load(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.services import workdays

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        print(f"错误：{args.file} 不是 UTF-8 编码的文本文件", file=sys.stderr)
        return 1
    for session in _session(settings):
        loaded = workdays.load_year_file(session, text, actor=None, replace=args.replace)
    done = "已替换" if loaded.replaced else "已载入"
    days = f"放假 {loaded.rest_days} 天，调休上班 {loaded.make_up_days} 天"
    print(f"{done}{loaded.year}年工作日历：{days}（{loaded.source}）")
    return 0


def _publish_due(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from app.services import publication

    for session in _session(settings):
        published = publication.publish_due(session, now=datetime.now(UTC))
    for version in published:
        print(f"已公开：第{version.seq}版（{version.label}，文号 {version.doc_number}）")
    if not published:
        print("没有到期需公开的版本")
    return 0


def _screen(args: argparse.Namespace, settings: Settings) -> int:
    from app.errors import InvalidInput

    if (args.file is None) == (args.catalog is None):
        raise InvalidInput("请指定要筛查的文件，或用 --catalog 指定要筛查的目录（二者选一）")
    if args.file is None and args.rules is not None:
        raise InvalidInput("--rules 只用于筛查文件；筛查目录总是使用数据库中的现行规则")
    return _screen_file(args, settings) if args.file is not None else _screen_catalog(args, settings)


def _screen_file(args: argparse.Namespace, settings: Settings) -> int:
    import json
    from pathlib import Path

    from app.services import screening_files

    path = Path(args.file)
    items = screening_files.file_items(path.read_bytes(), filename=path.name, max_bytes=CLI_MAX_IMPORT_BYTES)
    matcher = _screening_matcher(args, settings)
    flagged = 0
    for item, found in screening_files.screen_items(items, matcher):
        flagged += bool(found)
        if args.format == "json":
            print(json.dumps(screening_files.item_json(item.row, item.name, found), ensure_ascii=False))
        elif found:
            hits = "；".join(f"{f.rule_id}（{f.severity.value}）“{f.match}”" for f in found)
            print(f"第{item.row}行\t{item.name}\t{hits}")
    if args.format == "text":
        print(f"共 {len(items)} 个条目，{flagged} 个命中负面清单规则（规则版本 {matcher.version}）")
    return 0


def _screening_matcher(args: argparse.Namespace, settings: Settings) -> Matcher:
    from pathlib import Path

    from sqlalchemy.exc import OperationalError, ProgrammingError

    from app.errors import InvalidInput
    from app.screening import compile_rules, parse_rules_json
    from app.services.screening_rules import current_matcher

    if args.rules is not None:
        return compile_rules(parse_rules_json(Path(args.rules).read_text(encoding="utf-8-sig")))
    try:
        for session in _session(settings):
            return current_matcher(session, catalogs_dir=settings.catalogs_dir)
    except (OperationalError, ProgrammingError) as exc:
        first = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        raise InvalidInput(
            f"无法从数据库读取现行规则（{first}）：请先运行 guidecat db upgrade，或用 --rules 指定规则文件"
        ) from None
    raise AssertionError("unreachable")


def _screen_catalog(args: argparse.Namespace, settings: Settings) -> int:
    import json
    from dataclasses import asdict

    from app.screening import Severity
    from app.screening.rules import HEAD_LABELS
    from app.services.import_report import display_width
    from app.services.screening_versions import screen_version

    for session in _session(settings):
        result = screen_version(session, args.catalog, args.version, actor=None)
    if args.format == "json":
        print(json.dumps({**asdict(result), "findings": result.findings}, ensure_ascii=False, indent=1))
        return 0
    rows = [("规则", "条款", "级别", "命中", "条目")] if result.by_rule else []
    rows += [
        (r.rule_id, f"第十条第{HEAD_LABELS[r.head]}项", r.severity.value, str(r.findings), str(r.items))
        for r in result.by_rule
    ]
    widths = [max((display_width(row[i]) for row in rows), default=0) for i in range(5)]
    for row in rows:
        cells = (cell + " " * (w - display_width(cell)) for cell, w in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    print(
        f"{result.catalog} 第{result.seq}版：筛查 {result.items} 个条目，"
        f"{result.flagged} 个条目共 {result.findings} 处命中"
        f"（阻止 {result.count(Severity.BLOCK)}，提示 {result.count(Severity.WARN)}）；"
        f"规则版本 {result.rules_version}"
    )
    return 0


def _rules_load(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.errors import InvalidInput
    from app.services.screening_rules import load_rules

    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("规则文件不是 UTF-8 编码的文本") from None
    for session in _session(settings):
        row = load_rules(session, text, actor=None)
    count = len(row.document["rules"])
    print(f"已启用负面清单规则 {row.rules_version}（{count} 条规则）；原规则保留，用于解释此前的筛查结果")
    return 0


def _publish_static(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.services import static_site

    out = Path(args.out)
    result = static_site.publish(settings, args.catalog, out, seq=args.version)
    if result.live_only:
        shown = "、".join(sorted(result.live_only)[:8])
        print(f"以下链接指向在线系统（静态网站不提供）：{shown}", file=sys.stderr)
    if result.failed:
        for url, status in result.failed[:20]:
            print(f"错误：{url} 无法生成（HTTP {status}）", file=sys.stderr)
        print(f"错误：{len(result.failed)} 个链接无法生成，静态网站不完整", file=sys.stderr)
        return 1
    print(f"已发布静态网站到 {out}：{result.pages} 个页面，{result.files} 个数据文件")
    return 0


def _search_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import search_index

    for session in _session(settings):
        items = search_index.reindex(session, catalog=args.catalog)
    scope = f"目录 {args.catalog} 的" if args.catalog else "全部"
    print(f"已重建{scope}已公开版本的搜索索引：{items} 个条目")
    return 0


def _search_update(args: argparse.Namespace, settings: Settings) -> int:
    from app.db.engine import make_engine, make_sessionmaker
    from app.services import search_index

    if args.background and hasattr(os, "nice"):
        os.nice(10)  # the app's worker: requests being served come first
    items = search_index.index_unindexed(make_sessionmaker(make_engine(settings.database_url)))
    if not args.background:
        print(f"已为尚未编入索引的已公开版本建立索引：{items} 个条目")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every `guidecat` command."""
    parser = argparse.ArgumentParser(prog="guidecat", description="政府购买服务指导性目录管理系统")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="启动网站与接口（uvicorn）")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="数据库迁移").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="迁移到最新结构")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=_db_upgrade)
    down = db.add_parser("downgrade", help="回退迁移")
    down.add_argument("revision", nargs="?", default="base")
    down.set_defaults(run=_db_downgrade)

    demo = sub.add_parser("demo", help="示范数据").add_subparsers(dest="demo_command", required=True)
    load = demo.add_parser("load", help="载入示范市目录（可重复执行）")
    load.add_argument("--print-logins", action="store_true", help="打印演示账号")
    load.add_argument("--if-empty", action="store_true", help="仅当数据库中还没有任何目录时载入")
    load.set_defaults(run=_demo_load)

    imp = sub.add_parser("import", help="导入部门目录表格（CSV / XLSX / JSON），整体校验后生成草稿")
    imp.add_argument("file")
    imp.add_argument("--catalog", required=True, help="目录标识，如 shifanshi")
    imp.add_argument("--department", help="部门编码：表格为该部门的完整目录")
    imp.add_argument("--sheet", help="XLSX 工作表名称（默认第一个）")
    imp.add_argument("--dry-run", action="store_true", help="只报告将新增、修改、撤销的数量，不写入")
    imp.add_argument("--report", metavar="FILE.xlsx", help="把问题清单（标注了问题单元格）写入 Excel 文件")
    imp.set_defaults(run=_import)

    diff = sub.add_parser("diff", help="两个版本之间的结构化差异（新旧对照）")
    diff.add_argument("--catalog", required=True)
    diff.add_argument("--from", dest="from_", type=int, required=True)
    diff.add_argument("--to", type=int, required=True)
    diff.add_argument("--format", choices=["text", "json", "csv"], default="text")
    diff.set_defaults(run=_diff)

    user = sub.add_parser("user", help="用户").add_subparsers(dest="user_command", required=True)
    user_add = user.add_parser("add", help="新建用户（密码从标准输入读取一行）")
    user_add.add_argument("username")
    user_add.add_argument(
        "--role", required=True, choices=["dept_editor", "finance_reviewer", "finance_admin", "sysadmin"]
    )
    user_add.add_argument("--department", help="部门编码（部门经办人必填）")
    user_add.add_argument("--jurisdiction", help="行政区划代码（默认：库中目录所属的区划）")
    user_add.set_defaults(run=_user_add)

    user_disable = user.add_parser("disable", help="停用用户")
    user_disable.add_argument("username")
    user_disable.set_defaults(run=_user_disable)
    user_reset = user.add_parser("reset-password", help="重置密码（新密码从标准输入读取一行）")
    user_reset.add_argument("username")
    user_reset.set_defaults(run=_user_reset_password)

    token = sub.add_parser("token", help="API 令牌").add_subparsers(dest="token_command", required=True)
    token_create = token.add_parser("create", help="为用户生成 API 令牌（只显示一次）")
    token_create.add_argument("username")
    token_create.add_argument("--label", default="")
    token_create.set_defaults(run=_token_create)
    token_revoke = token.add_parser("revoke", help="吊销 API 令牌")
    token_revoke.add_argument("token_id", type=int)
    token_revoke.set_defaults(run=_token_revoke)

    days_cmd = sub.add_parser("workdays", help="工作日计算")
    days_sub = days_cmd.add_subparsers(dest="workdays_command", required=True)
    days_add = days_sub.add_parser("add", help="打印某日之后第 N 个工作日（起算日不计入）")
    days_add.add_argument("date", type=_iso_date, metavar="YYYY-MM-DD")
    days_add.add_argument("days", type=_working_days, metavar="N")
    days_add.set_defaults(run=_workdays_add)

    calendar_cmd = sub.add_parser("calendar", help="工作日历")
    calendar_sub = calendar_cmd.add_subparsers(dest="calendar_command", required=True)
    calendar_load = calendar_sub.add_parser("load", help="载入某年的节假日安排（格式见 catalogs/calendar）")
    calendar_load.add_argument("file")
    calendar_load.add_argument("--replace", action="store_true", help="替换库中已有的该年数据")
    calendar_load.set_defaults(run=_calendar_load)

    publish_due = sub.add_parser("publish-due", help="公开所有已到安排日期的版本（供 cron 调用）")
    publish_due.set_defaults(run=_publish_due)

    screen = sub.add_parser("screen", help="负面清单筛查：筛查表格文件，或用 --catalog 筛查整个版本")
    screen.add_argument("file", nargs="?", help="CSV / XLSX / JSON 文件：每个三级、四级目录输出一行结果")
    screen.add_argument("--catalog", metavar="SLUG", help="筛查该目录的一个版本，保存结果并打印统计")
    screen.add_argument("--version", type=int, metavar="N", help="版本序号（默认：最新版本）")
    screen.add_argument("--format", choices=["text", "json"], default="text", help="json：每个条目一行")
    screen.add_argument("--rules", metavar="RULES.json", help="筛查文件时改用该规则文件（默认：现行规则）")
    screen.set_defaults(run=_screen)

    rules = sub.add_parser("rules", help="负面清单规则").add_subparsers(dest="rules_command", required=True)
    rules_load = rules.add_parser("load", help="载入新的规则文件：整体校验后启用，原规则保留")
    rules_load.add_argument("file")
    rules_load.set_defaults(run=_rules_load)

    export = sub.add_parser("export", help="导出一个版本（每行一个三级/四级目录）")
    export.add_argument("--catalog", required=True, metavar="SLUG")
    export.add_argument("--version", type=int, metavar="N", help="版本序号（默认：最新已公开版本）")
    export.add_argument("--format", required=True, choices=["csv", "xlsx", "json", "ndjson"])
    export.add_argument("-o", "--output", metavar="FILE", help="输出文件；省略或 - 为标准输出")
    export.add_argument("--bom", action="store_true", help="CSV 加 UTF-8 BOM，便于 Excel 打开")
    export.add_argument("--charset", choices=["utf-8", "gb18030"], default="utf-8", help="CSV 的编码")
    export.set_defaults(run=_export)

    static = sub.add_parser(
        "publish-static", help="把已公开的版本写成静态网站（HTML、JSON、CSV），供任何网站服务器或 CDN 提供"
    )
    static.add_argument("--catalog", required=True, metavar="SLUG")
    static.add_argument("--version", type=int, metavar="N", help="只写出第 N 版（默认：全部已公开版本）")
    static.add_argument("--out", required=True, metavar="DIR", help="输出目录（按网站根目录提供）")
    static.set_defaults(run=_publish_static)

    search_cmd = sub.add_parser("search", help="搜索索引")
    search_sub = search_cmd.add_subparsers(dest="search_command", required=True)
    reindex = search_sub.add_parser("reindex", help="重建已公开版本的搜索索引")
    reindex.add_argument("--catalog", metavar="SLUG", help="只重建该目录（默认：全部目录）")
    reindex.set_defaults(run=_search_reindex)
    update = search_sub.add_parser("update", help="为尚未编入索引的已公开版本建立索引（公开后网站自动进行）")
    update.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    update.set_defaults(run=_search_update)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `guidecat` command and return its exit status."""
    args = build_parser().parse_args(argv)
    run: Command = args.run
    try:
        return run(args, Settings.from_env())
    except CatalogError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `guidecat diff … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a broken database URL or an unreachable server is not a bug to dump
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError | OSError):
            print(f"错误：{type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
