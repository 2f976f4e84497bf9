"""`guidecat workdays`, `calendar` and `publish-due`: working days and scheduled publication."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from app.cli.common import session_for
from app.config import Settings


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
    from app.services.calendar import workdays

    try:
        for session in session_for(settings):
            print(workdays.add_days(session, args.date, args.days).isoformat())
    except CalendarYearMissing as exc:  # §11: exit 2 where the calendar has no data
        print(f"错误：{exc.message}", file=sys.stderr)
        return 2
    return 0


def _calendar_load(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.services.access import CLI
    from app.services.calendar import workdays

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        print(f"错误：{args.file} 不是 UTF-8 编码的文本文件", file=sys.stderr)
        return 1
    for session in session_for(settings):
        loaded = workdays.load_year_file(session, text, actor=CLI, replace=args.replace)
    done = "已替换" if loaded.replaced else "已载入"
    days = f"放假 {loaded.rest_days} 天，调休上班 {loaded.make_up_days} 天"
    print(f"{done}{loaded.year}年工作日历：{days}（{loaded.source}）")
    return 0


def _publish_due(_args: argparse.Namespace, settings: Settings) -> int:
    from app.clock import real_clock
    from app.services.versions import lifecycle

    for session in session_for(settings):
        published = lifecycle.publish_due(session, now=real_clock())
    for version in published:
        print(f"已公开：第{version.seq}版（{version.label}，文号 {version.doc_number}）")
    if not published:
        print("没有到期需公开的版本")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `workdays`, `calendar` and `publish-due` to the `guidecat` subcommands."""
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
