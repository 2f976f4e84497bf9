"""`guidecat user` and `token`: accounts and their API tokens."""

from __future__ import annotations

import argparse
import sys

from app.cli.common import session_for
from app.config import Settings
from app.workflow.states import PERSON_ROLES


def _user_add(args: argparse.Namespace, settings: Settings) -> int:
    from app.services.access import CLI
    from app.services.people import accounts as people

    password = sys.stdin.readline().rstrip("\n")
    for session in session_for(settings):
        people.add_user_in(
            session,
            username=args.username,
            password=password,
            role=args.role,
            jurisdiction=args.jurisdiction,
            department=args.department,
            actor=CLI,
        )
    print(f"已创建用户 {args.username}（{args.role}）")
    return 0


def _user_disable(args: argparse.Namespace, settings: Settings) -> int:
    from app.services.access import CLI
    from app.services.people import accounts as people

    for session in session_for(settings):
        people.set_active(session, args.username, active=False, actor=CLI)
    print(f"已停用用户 {args.username}：其登录会话和 API 令牌立即失效")
    return 0


def _user_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    from app.services.access import CLI
    from app.services.people import accounts as people

    password = sys.stdin.readline().rstrip("\n")
    for session in session_for(settings):
        people.reset_password(session, args.username, password, actor=CLI)
    print(f"已重置用户 {args.username} 的密码：原有登录会话全部失效")
    return 0


def _token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from app.services.access import CLI
    from app.services.people import accounts as people

    for session in session_for(settings):
        people.revoke_token(session, args.token_id, actor=CLI)
    print(f"已吊销令牌 {args.token_id}")
    return 0


def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.services.access import CLI
    from app.services.people import accounts as people

    for session in session_for(settings):
        token = people.create_token(session, args.username, label=args.label, actor=CLI)
        print(token)  # stdout holds the token alone, for scripts
        print(
            f"令牌编号 {people.token_id(session, token)}（吊销：guidecat token revoke 编号）", file=sys.stderr
        )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `user` and `token` to the `guidecat` subcommands."""
    user = sub.add_parser("user", help="用户").add_subparsers(dest="user_command", required=True)
    user_add = user.add_parser("add", help="新建用户（密码从标准输入读取一行）")
    user_add.add_argument("username")
    user_add.add_argument("--role", required=True, choices=[role.value for role in PERSON_ROLES])
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
