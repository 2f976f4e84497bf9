"""Users: creation and password hashing (argon2id, memory-hard)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.db.models import ApiToken, Catalog, Department, Jurisdiction, LoginAttempt, User
from app.errors import InvalidInput, NotFound, Throttled, Unauthenticated
from app.services import audit
from app.services.access import Actor
from app.workflow.states import PERSON_ROLES, Role

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): still memory-hard, and a
# sign-in costs ~40 ms here instead of ~300 ms with argon2-cffi's RFC 9106 defaults (64 MiB, 3
# passes, 4 lanes). Older hashes verify as before and are rehashed on the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    """Return the argon2id hash of `password`."""
    return _hasher.hash(password)


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    jurisdiction_id: int,
    department_id: int | None = None,
    display_name: str = "",
) -> User:
    """Add a user (the caller commits); a department editor must belong to a department."""
    if role not in PERSON_ROLES:
        raise InvalidInput(f"未知的角色：{role}（可选：{'、'.join(PERSON_ROLES)}）")
    if role == Role.DEPT_EDITOR and department_id is None:
        raise InvalidInput("部门经办人必须指定所属部门")
    if len(password) < 8:
        raise InvalidInput("密码至少 8 位")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InvalidInput(f"用户名已存在：{username}")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        jurisdiction_id=jurisdiction_id,
        department_id=department_id,
    )
    session.add(user)
    session.flush()
    return user


def add_user_in(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    jurisdiction: str | None,
    department: str | None,
    actor: Actor,
) -> User:
    """Add a user in the jurisdiction with division code `jurisdiction` and commit.

    Without a code, the jurisdiction is the one that holds catalogs, if there is exactly one.
    """
    if jurisdiction is None:
        codes = session.scalars(select(Jurisdiction.code).join(Catalog).distinct()).all()
        if len(codes) != 1:
            raise InvalidInput("请用 --jurisdiction 指定用户所属的行政区划代码")
        jurisdiction = codes[0]
    place = session.scalars(select(Jurisdiction).where(Jurisdiction.code == jurisdiction)).first()
    if place is None:
        raise NotFound(f"没有行政区划代码“{jurisdiction}”")
    department_id = None
    if department is not None:
        dept = session.scalars(
            select(Department).where(Department.jurisdiction_id == place.id, Department.code == department)
        ).first()
        if dept is None:
            raise NotFound(f"{place.name}没有部门编码“{department}”")
        department_id = dept.id
    user = add_user(
        session,
        username=username,
        password=password,
        role=role,
        jurisdiction_id=place.id,
        department_id=department_id,
    )
    audit.record(
        session,
        actor=actor,
        action="user.add",
        object_type="user",
        object_id=username,
        summary={"role": role, "jurisdiction": jurisdiction, "department": department},
    )
    session.commit()
    return user


TOKEN_PREFIX = "gc_"


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, *, label: str = "", actor: Actor) -> str:
    """Add an API token for `username` and return it; it is shown once and only its hash is kept."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFound(f"没有可用的用户“{username}”")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token), label=label)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        object_type="user",
        object_id=user.username,
        summary={"token_id": row.id, "label": label},
    )
    session.commit()
    return token


def revoke_token(session: Session, token_id: int, *, actor: Actor) -> None:
    """Revoke token `token_id`; later requests with it are refused."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"没有编号为 {token_id} 的令牌")
    row.revoked_at = datetime.now(UTC)
    audit.record(session, actor=actor, action="token.revoke", object_type="token", object_id=token_id)
    session.commit()


def token_id(session: Session, token: str) -> int | None:
    """Return the id of the stored token `token` (for revoking it later), or None."""
    return session.scalars(select(ApiToken.id).where(ApiToken.token_hash == _token_hash(token))).first()


def user_for_token(session: Session, token: str) -> User | None:
    """Return the active user a valid, unrevoked token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    stmt = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None), User.active)
    )
    return session.scalars(stmt).first()


# --- signing in -------------------------------------------------------------------------------

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def authenticate(session: Session, username: str, password: str, *, address: str, now: datetime) -> User:
    """Return the user if the password is right; raise Unauthenticated (or Throttled after too many failures).

    Failures are counted per account and per address over the last 15 minutes, in the
    database, so the limit holds across worker processes.
    """
    since = now - THROTTLE_WINDOW
    if _failures(session, LoginAttempt.username == username, since) >= MAX_FAILURES_PER_ACCOUNT or (
        _failures(session, LoginAttempt.address == address, since) >= MAX_FAILURES_PER_ADDRESS
    ):
        raise Throttled("登录失败次数过多，请 15 分钟后再试")
    user = session.scalars(select(User).where(User.username == username)).first()
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None and user.active
    session.add(LoginAttempt(username=username, address=address, succeeded=ok, at=now))
    if ok and user is not None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.commit()
    if not ok or user is None:
        raise Unauthenticated("用户名或密码不正确")
    return user


def _failures(session: Session, who: ColumnElement[bool], since: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(who, LoginAttempt.at >= since, ~LoginAttempt.succeeded)
    )
    return int(session.scalar(stmt) or 0)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def session_fingerprint(user: User) -> str:
    """Return a short digest of the user's password hash: a new password ends every old session."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def set_active(session: Session, username: str, *, active: bool, actor: Actor) -> User:
    """Enable or disable a user (a disabled user's sessions and tokens stop working at once) and commit."""
    user = _user(session, username)
    user.active = active
    audit.record(
        session,
        actor=actor,
        action="user.enable" if active else "user.disable",
        object_type="user",
        object_id=username,
    )
    session.commit()
    return user


def reset_password(session: Session, username: str, password: str, *, actor: Actor) -> User:
    """Set a new password (ending the user's sessions) and commit."""
    if len(password) < 8:
        raise InvalidInput("密码至少 8 位")
    user = _user(session, username)
    user.password_hash = hash_password(password)
    audit.record(
        session,
        actor=actor,
        action="user.reset_password",
        object_type="user",
        object_id=username,
    )
    session.commit()
    return user


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"没有用户“{username}”")
    return user
