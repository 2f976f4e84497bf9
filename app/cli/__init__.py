"""`guidecat …`: thin wrappers over the services.

Every command exits non-zero with a message on stderr, never a traceback, on a user's mistake.
The commands live in one module per noun (`app.cli_setup`, `app.cli_catalog`, `app.cli_people`,
`app.cli_calendar`, `app.cli_screening`, `app.cli_search`); this module parses and dispatches.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from app.cli import calendar as cli_calendar
from app.cli import catalog as cli_catalog
from app.cli import people as cli_people
from app.cli import screening as cli_screening
from app.cli import search as cli_search
from app.cli import setup as cli_setup
from app.cli.common import Command
from app.config import Settings
from app.errors import CatalogError


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every `guidecat` command."""
    parser = argparse.ArgumentParser(prog="guidecat", description="政府购买服务指导性目录管理系统")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_setup.add_parsers(sub)  # serve, db, demo
    cli_catalog.add_import_parsers(sub)  # import, diff
    cli_people.add_parsers(sub)  # user, token
    cli_calendar.add_parsers(sub)  # workdays, calendar, publish-due
    cli_screening.add_parsers(sub)  # screen, rules
    cli_catalog.add_export_parsers(sub)  # export, publish-static
    cli_search.add_parsers(sub)  # search
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
