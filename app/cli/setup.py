"""`guidecat serve`, `db` and `demo`: run the site and prepare its database."""

from __future__ import annotations

import argparse
import os

from app.cli.common import safe_url
from app.config import Settings


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
    print(f"数据库已迁移到 {args.revision}：{safe_url(settings.database_url)}")
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


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `serve`, `db` and `demo` to the `guidecat` subcommands."""
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
