"""Operator accounts on real SQLite and PostgreSQL: sign-in, lockout, second factor, logout everywhere,
admin actions and who may do them, and the audit trail each of them leaves."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from commerce_core.api import (
    AccountLocked,
    Action,
    Actor,
    AuditFilter,
    Commerce,
    FakeClock,
    InvalidInput,
    LoginRefused,
    NotAllowed,
    NotFound,
    OperatorPolicy,
    OperatorRole,
    OperatorView,
    SecondFactorRequired,
    WeakPassword,
    allowed,
)
from commerce_core.merchants.types import MerchantStatus
from commerce_core.operators.model import OperatorUser
from commerce_core.operators.service import OperatorService
from commerce_core.security import FieldCipher
from tests.commerce.factory import names
from tests.conftest import TEST_KEYS

SERVER = Actor(operator_id=None, ip="127.0.0.1")
PASSWORD = "correct horse battery"
ADMIN_IP = "203.0.113.7"
#: argon2id at its cheapest, so the many sign-ins below take milliseconds; the real cost is tested once
CHEAP_HASHING = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)


@pytest.fixture(autouse=True)
def cheap_hashing(commerce: Commerce) -> None:
    commerce.operators.policy = CHEAP_HASHING


async def staff(commerce: Commerce, email: str, role: OperatorRole = OperatorRole.ADMIN) -> OperatorView:
    return await commerce.operators.create(email, PASSWORD, role, display_name=email, actor=SERVER)


async def login(
    commerce: Commerce, email: str, password: str = PASSWORD, code: str | None = None
) -> OperatorView:
    return await commerce.operators.authenticate(email, password, totp_code=code, ip="198.51.100.1")


async def actions_on(commerce: Commerce, public_id: str) -> list[str]:
    rows = await commerce.operators.audit_log(AuditFilter(object_id=public_id))
    return [r.action for r in reversed(rows)]


async def test_an_account_signs_in_with_its_password_and_the_login_is_audited(commerce: Commerce) -> None:
    created = await commerce.operators.create(
        "  Alice@Example.COM ",
        PASSWORD,
        OperatorRole.AGENT,
        display_name="Alice",
        language="zh-Hans",
        actor=SERVER,
    )
    assert created.email == "alice@example.com" and created.public_id.startswith("OP")
    assert created.role is OperatorRole.AGENT and created.merchant_id is None and not created.totp_enabled

    signed_in = await login(commerce, "ALICE@example.com")
    assert signed_in.public_id == created.public_id and signed_in.last_login_at is not None
    assert (await commerce.operators.get(created.public_id)).language == "zh-Hans"

    entries = await commerce.operators.audit_log(AuditFilter(object_id=created.public_id))
    assert [e.action for e in entries] == ["login.succeeded", "user.created"]
    assert entries[0].ip == "198.51.100.1" and entries[0].actor_email == "alice@example.com"
    assert entries[1].ip == "127.0.0.1" and entries[1].actor_id is None  # created by the server itself
    assert all(PASSWORD not in (e.detail or "") for e in entries)


async def test_unknown_email_wrong_password_and_disabled_account_look_the_same(commerce: Commerce) -> None:
    admin = await staff(commerce, "root@example.com")
    agent = await staff(commerce, "agent@example.com", OperatorRole.AGENT)
    refusals = []
    for email, password in [
        ("nobody@example.com", PASSWORD),
        ("agent@example.com", "wrong password!"),
        ("x", ""),
    ]:
        with pytest.raises(LoginRefused) as caught:
            await login(commerce, email, password)
        refusals.append((type(caught.value), caught.value.code, str(caught.value)))
    await commerce.operators.disable(agent.public_id, Actor(admin.public_id, ADMIN_IP))
    with pytest.raises(LoginRefused) as caught:
        await login(commerce, "agent@example.com")
    refusals.append((type(caught.value), caught.value.code, str(caught.value)))
    assert len(set(refusals)) == 1 and refusals[0][1] == "login_refused"
    failed = await commerce.operators.audit_log(AuditFilter(action="login.failed"))
    assert {e.actor_email for e in failed} == {"nobody@example.com", "agent@example.com", None}


async def test_five_failures_lock_the_account_until_the_window_passes(
    commerce: Commerce, clock: FakeClock
) -> None:
    user = await staff(commerce, "lock@example.com", OperatorRole.REVIEWER)
    for _ in range(4):
        with pytest.raises(LoginRefused):
            await login(commerce, "lock@example.com", "not the password")
    with pytest.raises(AccountLocked) as locked:
        await login(commerce, "lock@example.com", "not the password")
    assert locked.value.until == clock.now() + timedelta(minutes=15)
    clock.advance(minutes=14)
    with pytest.raises(AccountLocked):  # even the right password waits for the window
        await login(commerce, "lock@example.com")
    clock.advance(minutes=1, seconds=1)
    assert (await login(commerce, "lock@example.com")).public_id == user.public_id
    actions = await actions_on(commerce, user.public_id)
    assert actions.count("login.failed") == 5 and actions.count("login.locked") == 2
    assert actions[-1] == "login.succeeded"


async def test_a_success_resets_the_failure_count(commerce: Commerce) -> None:
    await staff(commerce, "count@example.com", OperatorRole.AGENT)
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(LoginRefused):
                await login(commerce, "count@example.com", "not the password")
        await login(commerce, "count@example.com")  # 8 failures in all, never 5 in a row


async def test_account_rules_refuse_bad_input_with_codes(commerce: Commerce) -> None:
    await staff(commerce, "taken@example.com")
    cases = [
        (("taken@example.com", PASSWORD, OperatorRole.AGENT), {}, "email_taken"),
        (("not-an-email", PASSWORD, OperatorRole.AGENT), {}, "invalid_email"),
        (("a@example.com", PASSWORD, "superuser"), {}, "invalid_role"),
        (("a@example.com", PASSWORD, OperatorRole.MERCHANT_OWNER), {}, "merchant_role_mismatch"),
        (
            ("a@example.com", PASSWORD, OperatorRole.AGENT),
            {"merchant_code": "acme"},
            "merchant_role_mismatch",
        ),
        (("a@example.com", PASSWORD, OperatorRole.AGENT), {"language": "fr"}, "invalid_language"),
    ]
    for args, extra, code in cases:
        with pytest.raises(InvalidInput) as caught:
            await commerce.operators.create(*args, actor=SERVER, **extra)  # type: ignore[arg-type]
        assert caught.value.code == code, args
    with pytest.raises(NotFound):
        await commerce.operators.create(
            "m@example.com", PASSWORD, OperatorRole.MERCHANT_OWNER, merchant_code="nope", actor=SERVER
        )
    for weak in ["short", "1234567890", "Password123", "aaaaaaaaaaaa", "weakling1234"]:
        with pytest.raises(WeakPassword):
            await commerce.operators.create(
                "weakling1234@example.com", weak, OperatorRole.AGENT, actor=SERVER
            )
    with pytest.raises(NotFound):
        await commerce.operators.get("OP0000000000")
    with pytest.raises(NotFound):
        await commerce.operators.get("'; drop table operator_users; --")


async def test_totp_is_required_once_confirmed_and_codes_work_once(
    commerce: Commerce, clock: FakeClock
) -> None:
    user = await staff(commerce, "otp@example.com", OperatorRole.AGENT)
    me = Actor(user.public_id, "198.51.100.9")
    secret, uri = await commerce.operators.begin_totp(user.public_id)
    assert uri.startswith("otpauth://totp/") and "shopbot" in uri
    await login(commerce, "otp@example.com")  # not live before it is confirmed
    totp = pyotp.TOTP(secret)
    with pytest.raises(InvalidInput):
        await commerce.operators.confirm_totp(user.public_id, "000000", me)
    await commerce.operators.confirm_totp(user.public_id, totp.at(clock.now()), me)
    assert (await commerce.operators.get(user.public_id)).totp_enabled

    with pytest.raises(SecondFactorRequired) as needed:
        await login(commerce, "otp@example.com")
    assert needed.value.public_id == user.public_id
    clock.advance(seconds=30)
    with pytest.raises(LoginRefused):
        await login(
            commerce, "otp@example.com", code="123456" if totp.at(clock.now()) != "123456" else "654321"
        )
    fresh = totp.at(clock.now())
    assert (await login(commerce, "otp@example.com", code=fresh)).public_id == user.public_id
    with pytest.raises(LoginRefused):  # the same code cannot sign in twice
        await login(commerce, "otp@example.com", code=fresh)

    clock.advance(seconds=30)
    challenge = needed.value.challenge
    assert PASSWORD not in challenge and user.public_id not in challenge
    signed_in = await commerce.operators.authenticate_second_factor(challenge, totp.at(clock.now()), ip=None)
    assert signed_in.public_id == user.public_id
    with pytest.raises(LoginRefused):
        await commerce.operators.authenticate_second_factor("forged", totp.at(clock.now()), ip=None)
    clock.advance(minutes=6)
    with pytest.raises(LoginRefused):  # challenges expire after five minutes
        await commerce.operators.authenticate_second_factor(challenge, totp.at(clock.now()), ip=None)


async def test_wrong_second_factor_codes_count_towards_the_lockout(
    commerce: Commerce, clock: FakeClock
) -> None:
    user = await staff(commerce, "guess@example.com", OperatorRole.AGENT)
    secret, _ = await commerce.operators.begin_totp(user.public_id)
    await commerce.operators.confirm_totp(user.public_id, pyotp.TOTP(secret).at(clock.now()), SERVER)
    wrong = "111111" if pyotp.TOTP(secret).at(clock.now()) != "111111" else "222222"
    for attempt in range(5):
        with pytest.raises(SecondFactorRequired):  # the password alone resets nothing
            await login(commerce, "guess@example.com")
        with pytest.raises(AccountLocked if attempt == 4 else LoginRefused):
            await login(commerce, "guess@example.com", code=wrong)


async def test_end_sessions_disable_and_resets_move_the_session_epoch(commerce: Commerce) -> None:
    admin = await staff(commerce, "admin@example.com")
    user = await staff(commerce, "user@example.com", OperatorRole.AGENT)
    by_admin = Actor(admin.public_id, ADMIN_IP)
    ops = commerce.operators
    assert await ops.active_session(user.public_id, 0) is not None
    await ops.end_sessions(user.public_id, by_admin)
    assert await ops.active_session(user.public_id, 0) is None
    assert (await ops.get(user.public_id)).session_epoch == 1
    await ops.end_sessions(user.public_id, Actor(user.public_id, None))  # "logout everywhere" by oneself
    await ops.reset_password(user.public_id, "a brand new secret", by_admin)
    assert (await ops.get(user.public_id)).session_epoch == 3
    with pytest.raises(LoginRefused):
        await login(commerce, "user@example.com")
    await login(commerce, "user@example.com", "a brand new secret")
    await ops.disable(user.public_id, by_admin)
    assert await ops.active_session(user.public_id, 4) is None
    await ops.enable(user.public_id, by_admin)
    assert await ops.active_session(user.public_id, 4) is not None
    await login(commerce, "user@example.com", "a brand new secret")

    assert await actions_on(commerce, user.public_id) == [
        "user.created",
        "user.sessions_ended",
        "user.sessions_ended",
        "user.password_reset",
        "login.failed",
        "login.succeeded",
        "user.disabled",
        "user.enabled",
        "login.succeeded",
    ]
    mine = await ops.audit_log(AuditFilter(actor_email="admin@example.com"))
    assert {e.ip for e in mine} == {ADMIN_IP} and {e.actor_id for e in mine} == {admin.public_id}


async def test_only_admins_act_on_other_accounts(commerce: Commerce) -> None:
    admin = await staff(commerce, "admin@example.com")
    agent = await staff(commerce, "agent@example.com", OperatorRole.AGENT)
    other = await staff(commerce, "other@example.com", OperatorRole.REVIEWER)
    as_agent = Actor(agent.public_id, None)
    ops = commerce.operators
    for attempt in (
        ops.disable(other.public_id, as_agent),
        ops.reset_password(other.public_id, "another good secret", as_agent),
        ops.end_sessions(other.public_id, as_agent),
        ops.reset_totp(other.public_id, as_agent),
        ops.issue_binding_code(other.public_id, as_agent),
        ops.disable(agent.public_id, as_agent),  # nor even disable oneself without the right
        ops.create("new@example.com", PASSWORD, OperatorRole.ADMIN, actor=as_agent),
        ops.disable(other.public_id, Actor("OP0000000000", None)),  # an actor that does not exist
    ):
        with pytest.raises(NotAllowed):
            await attempt
    with pytest.raises(NotAllowed):
        await ops.disable(admin.public_id, Actor(admin.public_id, None))
    with pytest.raises(InvalidInput):  # changing one's own password needs the current one
        await ops.change_password(agent.public_id, "wrong current one", "another good secret", as_agent)
    await ops.change_password(agent.public_id, PASSWORD, "another good secret", as_agent)
    await login(commerce, "agent@example.com", "another good secret")
    await ops.disable(agent.public_id, Actor(admin.public_id, None))
    with pytest.raises(NotAllowed):  # a disabled account acts no more
        await ops.end_sessions(agent.public_id, as_agent)
    assert [u.email for u in await ops.list_users(role=OperatorRole.ADMIN)] == ["admin@example.com"]
    assert len(await ops.list_users()) == 3


async def test_a_merchant_owner_adds_staff_to_their_own_merchant_only(commerce: Commerce) -> None:
    for code in ("acme", "beta"):
        await commerce.merchants.register(code, names(code, code), status=MerchantStatus.ACTIVE)
    owner = await commerce.operators.create(
        "owner@acme.test", PASSWORD, OperatorRole.MERCHANT_OWNER, merchant_code="acme", actor=SERVER
    )
    assert owner.merchant_code == "acme" and owner.merchant_id is not None
    by_owner = Actor(owner.public_id, None)
    member = await commerce.operators.create(
        "staff@acme.test", PASSWORD, OperatorRole.MERCHANT_STAFF, merchant_code="acme", actor=by_owner
    )
    assert member.merchant_id == owner.merchant_id
    for role, merchant in [(OperatorRole.MERCHANT_STAFF, "beta"), (OperatorRole.MERCHANT_OWNER, "acme")]:
        with pytest.raises(NotAllowed):
            await commerce.operators.create(
                f"{role}@x.test", PASSWORD, role, merchant_code=merchant, actor=by_owner
            )
    applicant = await commerce.operators.sign_up_applicant(
        "new@shop.test", PASSWORD, "New Shop", "en", "192.0.2.1"
    )
    assert applicant.role is OperatorRole.APPLICANT and applicant.merchant_id is None
    assert (await commerce.operators.audit_log(AuditFilter(object_id=applicant.public_id)))[
        0
    ].ip == "192.0.2.1"


async def test_audit_log_filters_by_actor_action_object_and_time(
    commerce: Commerce, clock: FakeClock
) -> None:
    admin = await staff(commerce, "admin@example.com")
    start = clock.now()
    clock.advance(hours=1)
    agent = await staff(commerce, "agent@example.com", OperatorRole.AGENT)
    await commerce.operators.record(
        Actor(agent.public_id, "192.0.2.44"), "logout", "operator", agent.public_id
    )
    await commerce.operators.record(
        Actor(admin.public_id, ADMIN_IP), "merchant.approved", "merchant", "acme", "ok"
    )
    ops = commerce.operators
    assert [e.action for e in await ops.audit_log(AuditFilter(actor_email="AGENT@example.com"))] == ["logout"]
    approved = await ops.audit_log(AuditFilter(object_type="merchant", object_id="acme"))
    assert [(e.action, e.actor_id, e.ip, e.detail) for e in approved] == [
        ("merchant.approved", admin.public_id, ADMIN_IP, "ok")
    ]
    assert [e.object_id for e in await ops.audit_log(AuditFilter(until=start + timedelta(minutes=1)))] == [
        admin.public_id
    ]
    later = await ops.audit_log(AuditFilter(since=start + timedelta(minutes=1)))
    assert [e.action for e in later] == ["merchant.approved", "logout", "user.created"]
    assert [e.action for e in await ops.audit_log(AuditFilter(), limit=1, offset=1)] == ["logout"]
    with pytest.raises(InvalidInput):
        await ops.audit_log(AuditFilter(), limit=0)
    with pytest.raises(InvalidInput):
        await ops.record(Actor(admin.public_id, None), "", "operator")


def test_the_permission_table_keeps_roles_apart() -> None:
    assert allowed(OperatorRole.ADMIN, Action.VIEW_AUDIT) and allowed(OperatorRole.ADMIN, Action.MANAGE_USERS)
    assert not allowed(OperatorRole.AGENT, Action.VIEW_AUDIT)
    assert not allowed(OperatorRole.REVIEWER, Action.HANDLE_CONVERSATIONS)
    assert allowed(OperatorRole.REVIEWER, Action.REVIEW_LISTINGS)
    merchant_actions = {a for a in Action if allowed(OperatorRole.MERCHANT_OWNER, a)}
    assert merchant_actions == {
        Action.VIEW_OWN_MERCHANT,
        Action.MANAGE_OWN_MERCHANT,
        Action.SHIP_OWN_ORDERS,
        Action.MANAGE_OWN_ACCOUNT,
        Action.BIND_CHAT_IDENTITY,
        Action.VIEW_DASHBOARD,  # its own sales and funnel only (bot/backoffice/views/dashboard.py)
    }
    assert not allowed(OperatorRole.AGENT, Action.VIEW_DASHBOARD)
    assert not allowed(OperatorRole.MERCHANT_STAFF, Action.MANAGE_OWN_MERCHANT)
    assert allowed(OperatorRole.MERCHANT_STAFF, Action.SHIP_OWN_ORDERS)  # staff pack and ship
    assert not allowed(OperatorRole.AGENT, Action.SHIP_OWN_ORDERS)
    assert {a for a in Action if allowed(OperatorRole.APPLICANT, a)} == {
        Action.APPLY_AS_MERCHANT,
        Action.MANAGE_OWN_ACCOUNT,
    }


async def stored_hash(commerce: Commerce, public_id: str) -> str:
    async with commerce.sessions() as session:
        found = await session.scalar(
            select(OperatorUser.password_hash).where(OperatorUser.public_id == public_id)
        )
    assert found is not None
    return found


async def test_passwords_are_argon2id_and_rehashed_when_the_cost_changes(commerce: Commerce) -> None:
    user = await staff(commerce, "hash@example.com", OperatorRole.AGENT)
    cheap = await stored_hash(commerce, user.public_id)
    assert cheap.startswith("$argon2id$v=19$m=256,t=1,p=1$") and PASSWORD not in cheap
    commerce.operators.policy = OperatorPolicy()  # the production cost
    await login(commerce, "hash@example.com")
    assert (await stored_hash(commerce, user.public_id)).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    await login(commerce, "hash@example.com")  # the upgraded hash still accepts the password


async def test_totp_secrets_survive_a_key_rotation(commerce: Commerce, clock: FakeClock) -> None:
    user = await staff(commerce, "rotate@example.com", OperatorRole.AGENT)
    secret, _ = await commerce.operators.begin_totp(user.public_id)
    await commerce.operators.confirm_totp(user.public_id, pyotp.TOTP(secret).at(clock.now()), SERVER)
    new_key = FieldCipher.generate_key()
    both = OperatorService(commerce.units, FieldCipher([new_key, *TEST_KEYS], "k"), clock, CHEAP_HASHING)
    assert await both.rotate_encryption() == 1
    only_new = OperatorService(commerce.units, FieldCipher([new_key], "k"), clock, CHEAP_HASHING)
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock.now())
    signed_in = await only_new.authenticate("rotate@example.com", PASSWORD, totp_code=code, ip=None)
    assert signed_in.public_id == user.public_id


async def test_recording_never_refuses_and_owners_list_their_own_users(commerce: Commerce) -> None:
    admin = await staff(commerce, "admin@example.com")
    agent = await staff(commerce, "agent@example.com", OperatorRole.AGENT)
    await commerce.operators.disable(agent.public_id, Actor(admin.public_id, None))
    await commerce.operators.record(
        Actor(agent.public_id, "192.0.2.5"), "logout", "operator", agent.public_id
    )
    [logout] = await commerce.operators.audit_log(AuditFilter(action="logout"))
    assert logout.actor_email == "agent@example.com" and logout.ip == "192.0.2.5"

    await commerce.merchants.register("acme", names("极客", "Acme"), status=MerchantStatus.ACTIVE)
    owner = await commerce.operators.create(
        "owner@acme.test", PASSWORD, OperatorRole.MERCHANT_OWNER, merchant_code="acme", actor=SERVER
    )
    assert owner.merchant_id is not None
    listed = await commerce.operators.list_users(merchant_id=owner.merchant_id)
    assert [u.email for u in listed] == ["owner@acme.test"]
