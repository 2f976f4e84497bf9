"""`guidecat search`: the search index of published versions."""

from __future__ import annotations

import argparse
import os

from app.cli.common import session_for
from app.config import Settings


def _search_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from app.services.search import index as search_index

    for session in session_for(settings):
        items = search_index.reindex(session, catalog=args.catalog)
    scope = f"目录 {args.catalog} 的" if args.catalog else "全部"
    print(f"已重建{scope}已公开版本的搜索索引：{items} 个条目")
    return 0


def _search_update(args: argparse.Namespace, settings: Settings) -> int:
    from app.db.engine import make_engine, make_sessionmaker
    from app.services.search import index as search_index

    if args.background and hasattr(os, "nice"):
        os.nice(10)  # the app's worker: requests being served come first
    items = search_index.index_unindexed(make_sessionmaker(make_engine(settings.database_url)))
    if not args.background:
        print(f"已为尚未编入索引的已公开版本建立索引：{items} 个条目")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `search` to the `guidecat` subcommands."""
    search_cmd = sub.add_parser("search", help="搜索索引")
    search_sub = search_cmd.add_subparsers(dest="search_command", required=True)
    reindex = search_sub.add_parser("reindex", help="重建已公开版本的搜索索引")
    reindex.add_argument("--catalog", metavar="SLUG", help="只重建该目录（默认：全部目录）")
    reindex.set_defaults(run=_search_reindex)
    update = search_sub.add_parser("update", help="为尚未编入索引的已公开版本建立索引（公开后网站自动进行）")
    update.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    update.set_defaults(run=_search_update)
