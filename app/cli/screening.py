"""`guidecat screen` and `rules`: negative-list screening of files and versions, and its rules."""

from __future__ import annotations

import argparse

from app.cli.common import CLI_MAX_IMPORT_BYTES, session_for
from app.config import Settings
from app.screening import Matcher


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

    from app.services.screening import files as screening_files

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
    from app.services.screening.rules import current_matcher

    if args.rules is not None:
        return compile_rules(parse_rules_json(Path(args.rules).read_text(encoding="utf-8-sig")))
    try:
        for session in session_for(settings):
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

    from app.formats.import_report import display_width
    from app.screening import Severity
    from app.screening.rules import HEAD_LABELS
    from app.services.access import CLI
    from app.services.screening.versions import screen_version

    for session in session_for(settings):
        result = screen_version(session, args.catalog, args.version, actor=CLI)
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
    from app.services.access import CLI
    from app.services.screening.rules import load_rules

    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("规则文件不是 UTF-8 编码的文本") from None
    for session in session_for(settings):
        row = load_rules(session, text, actor=CLI)
    count = len(row.document["rules"])
    print(f"已启用负面清单规则 {row.rules_version}（{count} 条规则）；原规则保留，用于解释此前的筛查结果")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `screen` and `rules` to the `guidecat` subcommands."""
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
