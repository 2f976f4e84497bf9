"""`guidecat import`, `diff`, `export` and `publish-static`: a catalog's versions in and out."""

from __future__ import annotations

import argparse
import csv
import os
import sys

from app.cli.common import CLI_MAX_IMPORT_BYTES, session_for
from app.config import Settings


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.db.engine import make_engine, make_sessionmaker
    from app.formats.import_report import problems_table, write_report_xlsx
    from app.services.access import CLI
    from app.services.imports.pipeline import (
        ImportMode,
        ImportRequest,
        ImportScope,
        import_file,
        report_table,
    )

    path = Path(args.file)
    request = ImportRequest(
        catalog=args.catalog,
        data=path.read_bytes(),
        filename=path.name,
        department=args.department,
        sheet=args.sheet,
        mode=ImportMode.DRY_RUN if args.dry_run else ImportMode.WRITE,
        scope=ImportScope(args.mode),
        max_bytes=CLI_MAX_IMPORT_BYTES,
    )
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            result = import_file(session, request, actor=CLI, catalogs_dir=settings.catalogs_dir)
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
    whole = f"替换{'本部门' if args.department else ''}全部条目"
    how = "只新增和修改" if request.scope is ImportScope.ADD_UPDATE else whole
    summary = f"校验通过：{result.rows} 行；新增 {c.added}，修改 {c.changed}，撤销 {c.withdrawn}（{how}）"
    print(f"{summary}（试导入，未写入）" if args.dry_run else f"{summary}；已生成草稿 #{result.draft_id}")
    return 0


def _diff(args: argparse.Namespace, settings: Settings) -> int:
    from app.api.changes import diff_out
    from app.services.catalogs import browse, history
    from app.services.versions import lifecycle

    history.ordered_pair(args.from_, args.to)
    for session in session_for(settings):
        catalog = browse.catalog(session, args.catalog)
        a = lifecycle.get_version(session, args.catalog, args.from_)
        b = lifecycle.get_version(session, args.catalog, args.to)
        comparison = history.compare_versions(session, catalog, a, b)
        names = browse.department_names(session, catalog)
    if args.format == "json":
        print(diff_out(args.catalog, comparison, a.seq, b.seq, None).model_dump_json(indent=1))
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


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from contextlib import nullcontext

    from app.db.engine import make_engine, make_sessionmaker
    from app.formats.exports import Charset
    from app.services.exports import files as exports

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


def _publish_static(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.cli import static_site

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


def add_import_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import` and `diff` to the `guidecat` subcommands."""
    imp = sub.add_parser("import", help="导入部门目录表格（CSV / XLSX / JSON），整体校验后生成草稿")
    imp.add_argument("file")
    imp.add_argument("--catalog", required=True, help="目录标识，如 shifanshi")
    imp.add_argument("--department", help="部门编码：表格只涉及该部门的条目")
    imp.add_argument(
        "--mode",
        choices=["add_update", "replace"],
        default="add_update",
        help="add_update（默认）：只新增和修改，表格中没有的条目保持不变；"
        "replace：表格为该部门（或全部）的完整目录，表格中没有的条目将被撤销",
    )
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


def add_export_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `export` and `publish-static` to the `guidecat` subcommands."""
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
