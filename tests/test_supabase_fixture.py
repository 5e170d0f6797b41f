"""The Supabase-shaped fixture (tests/supabase.py) is what it claims: `postgres` is not a
superuser and has exactly Supabase's attributes and memberships, supautils grants it what
Supabase grants it and no more, pg_cron is Supabase's, auth and storage are the services'
own, and SnapBet's migrations have left SnapBet's tables owned by `postgres` with RLS on.
Values, not just presence. One server for the module (a few seconds to start)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from tests import factories, supabase, supabase_data

MISSING = supabase.missing_libraries()
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"the Supabase fixture needs {', '.join(MISSING)}: "
                                                     "scripts/build-vendor builds them (CI does)")

SNAPBET_TABLES = ["badge_history", "bankrolls", "bets", "chat_members", "chats", "comments", "games", "messages",
                  "notifications", "pick_actions", "posts", "reactions", "stories", "user_badges", "users"]


@pytest.fixture(scope="module")
def server():
    with supabase.supabase_server() as running:
        yield running


def connect(server, user: str = "postgres", autocommit: bool = True) -> psycopg.Connection:
    return psycopg.connect(server.dsn(user), autocommit=autocommit, row_factory=dict_row)


def one(server, sql: str, params=(), user: str = "postgres") -> dict:
    with connect(server, user) as conn:
        return conn.execute(sql, params).fetchone()


def test_it_starts_quickly_and_listens_on_loopback(server):
    assert server.startup_seconds < 30
    row = one(server, "SELECT current_setting('listen_addresses') AS listen, current_setting('port') AS port")
    assert row == {"listen": "127.0.0.1", "port": str(server.port)}


def test_postgres_is_not_a_superuser_and_has_exactly_supabases_attributes(server):
    role = one(server, """
        SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconfig
          FROM pg_roles WHERE rolname = 'postgres'""")
    assert role == {"rolsuper": False, "rolinherit": True, "rolcreaterole": True, "rolcreatedb": True,
                    "rolcanlogin": True, "rolreplication": True, "rolbypassrls": True,
                    # The backslash is Supabase's (its init script; hosted projects show it too).
                    "rolconfig": ['search_path="\\$user", public, extensions']}
    me = one(server, "SELECT rolsuper, current_setting('is_superuser') AS is_superuser FROM pg_roles"
                     " WHERE rolname = current_user")
    assert me == {"rolsuper": False, "is_superuser": "off"}
    assert one(server, "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'postgres'") == {
        "owner": "postgres"}


def test_postgres_has_supabases_memberships(server):
    with connect(server) as conn:
        granted = {r["role"] for r in conn.execute("""
            SELECT r.rolname AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
             WHERE m.member = 'postgres'::regrole""")}
    assert granted == {"anon", "authenticated", "service_role", "pg_monitor", "pg_read_all_data",
                       "pg_signal_backend", "supabase_auth_admin", "supabase_storage_admin"}


def test_the_api_roles_are_supabases_and_authenticator_can_switch_to_them(server):
    with connect(server) as conn:
        roles = {r["rolname"]: r for r in conn.execute("""
            SELECT rolname, rolcanlogin, rolinherit, rolbypassrls, rolsuper FROM pg_roles
             WHERE rolname IN ('anon', 'authenticated', 'service_role', 'authenticator')""")}
        members = {r["role"] for r in conn.execute("""
            SELECT r.rolname AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
             WHERE m.member = 'authenticator'::regrole""")}
    attributes = {name: (r["rolcanlogin"], r["rolinherit"], r["rolbypassrls"], r["rolsuper"])
                  for name, r in roles.items()}
    assert attributes == {  # login, inherit (anon, authenticated, service_role since 20230529180330), bypassrls, super
        "anon": (False, True, False, False),
        "authenticated": (False, True, False, False),
        "service_role": (False, True, True, False),
        "authenticator": (True, False, False, False),
    }
    assert members == {"anon", "authenticated", "service_role"}
    # authenticator preloads safeupdate (vendored), as PostgREST's connections do on Supabase.
    with connect(server, "authenticator", autocommit=False) as conn:
        conn.execute("SET ROLE authenticated")
        assert conn.execute("SELECT current_user AS who").fetchone() == {"who": "authenticated"}
        with pytest.raises(psycopg.errors.CardinalityViolation, match="DELETE requires a WHERE clause"):
            conn.execute("DELETE FROM public.games")


def test_the_platform_roles_are_the_init_scripts(server):
    with connect(server) as conn:
        roles = {r["rolname"]: (r["rolcanlogin"], r["rolinherit"], r["rolcreaterole"], r["rolcreatedb"],
                                r["rolreplication"], r["rolbypassrls"], r["rolsuper"]) for r in conn.execute("""
            SELECT * FROM pg_roles WHERE rolname IN ('supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin',
                   'supabase_read_only_user', 'supabase_replication_admin', 'dashboard_user', 'pgbouncer')""")}
        member_of = lambda who: {r["role"] for r in conn.execute(  # noqa: E731
            "SELECT r.rolname AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
            " WHERE m.member = %s::regrole", (who,))}
        assert member_of("supabase_read_only_user") == {"pg_read_all_data"}
        assert member_of("supabase_storage_admin") == {"authenticator"}
    # login, inherit, createrole, createdb, replication, bypassrls, superuser
    assert roles == {
        "supabase_admin": (True, True, True, True, True, True, True),
        "supabase_auth_admin": (True, False, True, False, False, False, False),
        "supabase_storage_admin": (True, False, True, False, False, False, False),
        "supabase_read_only_user": (True, True, False, False, False, True, False),
        "supabase_replication_admin": (True, True, False, False, True, False, False),
        "dashboard_user": (False, True, True, True, True, False, False),
        "pgbouncer": (True, True, False, False, False, False, False),
    }


def test_what_postgres_creates_in_public_is_granted_to_the_api_roles(server):
    """Supabase's default privileges: every table postgres makes in public is open to anon,
    authenticated and service_role; RLS is what guards SnapBet's tables."""
    with connect(server) as conn:
        acl = conn.execute("""
            SELECT defaclacl::text[] AS acl FROM pg_default_acl
             WHERE defaclrole = 'postgres'::regrole AND defaclnamespace = 'public'::regnamespace
               AND defaclobjtype = 'r'""").fetchone()["acl"]
        posts = conn.execute("""
            SELECT has_table_privilege('anon', 'public.posts', 'SELECT, INSERT, UPDATE, DELETE') AS anon,
                   has_table_privilege('authenticated', 'public.posts', 'DELETE') AS authenticated""").fetchone()
        major = int(conn.execute("SHOW server_version_num").fetchone()["server_version_num"]) // 10000
    every = "arwdDxt" + ("m" if major >= 17 else "")  # ALL: 17 added MAINTAIN (m)
    assert sorted(acl) == [f"anon={every}/postgres", f"authenticated={every}/postgres", f"postgres={every}/postgres",
                           f"service_role={every}/postgres"]
    assert posts == {"anon": True, "authenticated": True}


def test_supautils_is_configured_as_supabase_configures_it(server):
    with connect(server) as conn:
        setting = lambda name: conn.execute("SELECT current_setting(%s) AS v", (name,)).fetchone()["v"]  # noqa: E731
        assert setting("supautils.privileged_role") == "postgres"
        assert setting("supautils.superuser") == "supabase_admin"
        privileged = {name.strip() for name in setting("supautils.privileged_extensions").split(",")}
        assert {"pg_cron", "pgcrypto", "uuid-ossp", "pg_trgm", "vector", "plpgsql_check"} <= privileged
        assert "session_replication_role" in setting("supautils.privileged_role_allowed_configs")
        assert "storage.objects" in setting("supautils.policy_grants")
        assert {"supautils", "pg_cron"} <= {lib.strip() for lib in setting("shared_preload_libraries").split(",")}
        assert setting("cron.database_name") == "postgres"


def test_supautils_lets_postgres_create_a_bypassrls_role_but_not_a_superuser(server):
    name = f"x_{uuid.uuid4().hex[:8]}"
    with connect(server, autocommit=False) as conn:
        conn.execute(f"CREATE ROLE {name} BYPASSRLS")  # superuser-only in PostgreSQL 15, allowed by supautils
        assert conn.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = %s", (name,)).fetchone() == {
            "rolbypassrls": True}
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied to create role"):
            conn.execute(f"CREATE ROLE y_{name} SUPERUSER")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="reserved"):
            conn.execute("ALTER ROLE supabase_storage_admin NOLOGIN")  # reserved to the platform


def test_pg_cron_is_supabases_in_database_postgres(server):
    with connect(server, "supabase_admin") as conn:
        ext = conn.execute("SELECT extversion, extnamespace::regnamespace::text AS schema,"
                           " pg_get_userbyid(extowner) AS owner FROM pg_extension WHERE extname = 'pg_cron'").fetchone()
        # The installation's own pg_cron: Debian's 1.4-1, or 1.6 in CI's pg_cron 1.6 stage.
        shipped = conn.execute("SELECT default_version AS v FROM pg_available_extensions WHERE name = 'pg_cron'"
                               ).fetchone()["v"]
        assert shipped in ("1.4-1", "1.6")
        assert ext == {"extversion": shipped, "schema": "pg_catalog", "owner": "supabase_admin"}
        assert conn.execute("SELECT current_database() AS db").fetchone() == {"db": "postgres"}
        conn.execute("CREATE DATABASE other")
    try:
        with psycopg.connect(server.dsn("supabase_admin", "other"), autocommit=True) as other:
            assert other.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'").fetchone() == (0,)
            with pytest.raises(psycopg.errors.RaiseException, match="can only create extension in database postgres"):
                other.execute("CREATE EXTENSION pg_cron")
    finally:
        with connect(server, "supabase_admin") as conn:
            conn.execute("DROP DATABASE other")


def test_postgres_can_read_cron_job_but_not_write_it(server):
    with connect(server) as conn:
        assert conn.execute("SELECT count(*) AS n FROM cron.job").fetchone() == {"n": 0}
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table job"):
            conn.execute("INSERT INTO cron.job (schedule, command) VALUES ('* * * * *', 'SELECT 1')")
        privileges = conn.execute("""
            SELECT has_schema_privilege('cron', 'USAGE') AS usage,
                   has_table_privilege('cron.job', 'SELECT') AS job_select,
                   has_table_privilege('cron.job', 'UPDATE') AS job_update,
                   has_table_privilege('cron.job_run_details', 'DELETE') AS details_delete,
                   has_function_privilege('cron.schedule_in_database(text,text,text,text,text,boolean)',
                                          'EXECUTE') AS schedule_in_database""").fetchone()
    assert privileges == {"usage": True, "job_select": True, "job_update": False, "details_delete": True,
                          "schedule_in_database": True}


def test_postgres_schedules_only_as_itself(server):
    with connect(server) as conn:
        with pytest.raises(psycopg.errors.InternalError, match="must be superuser to create a job for another role"):
            conn.execute("SELECT cron.schedule_in_database('t', '* * * * *', 'SELECT 1', 'postgres', 'postgres', true)")
        job = conn.execute("SELECT cron.schedule_in_database('t', '* * * * *', 'SELECT 1', 'postgres', NULL, true)"
                           " AS id").fetchone()["id"]
        try:
            row = conn.execute("SELECT jobname, username, database FROM cron.job WHERE jobid = %s", (job,)).fetchone()
            assert row == {"jobname": "t", "username": "postgres", "database": "postgres"}
        finally:
            conn.execute("SELECT cron.unschedule(%s)", (job,))


def test_extensions_live_where_supabase_puts_them(server):
    with connect(server) as conn:
        where = {r["extname"]: (r["schema"], r["owner"]) for r in conn.execute(
            "SELECT extname, extnamespace::regnamespace::text AS schema, pg_get_userbyid(extowner) AS owner"
            " FROM pg_extension")}
    assert where["uuid-ossp"] == ("extensions", "supabase_admin")
    assert where["pgcrypto"] == ("extensions", "supabase_admin")
    assert where["pg_trgm"] == ("public", "supabase_admin")  # SnapBet's 001, no schema given: postgres's search_path


def test_auth_is_gotrues_own(server):
    with connect(server) as conn:
        users = conn.execute("SELECT pg_get_userbyid(relowner) AS owner, relrowsecurity FROM pg_class"
                             " WHERE oid = 'auth.users'::regclass").fetchone()
        columns = {r["column_name"] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'auth' AND table_name = 'users'")}
        claims = '{"sub": "6f1c1a57-0000-4000-8000-000000000001", "role": "authenticated", "email": "a@b.test"}'
        conn.execute("SELECT set_config('request.jwt.claims', %s, false)", (claims,))
        seen = conn.execute("SELECT auth.uid()::text AS uid, auth.role() AS role, auth.email() AS email,"
                            " auth.jwt() ->> 'role' AS jwt_role").fetchone()
    assert users == {"owner": "supabase_auth_admin", "relrowsecurity": True}
    assert {"id", "email", "raw_app_meta_data", "raw_user_meta_data", "created_at", "updated_at", "phone",
            "deleted_at", "is_anonymous", "is_sso_user"} <= columns
    assert seen == {"uid": "6f1c1a57-0000-4000-8000-000000000001", "role": "authenticated", "email": "a@b.test",
                    "jwt_role": "authenticated"}


def test_snapbets_signup_trigger_works_for_postgres_but_not_for_gotrue(server):
    """SnapBet's trigger on auth.users (007, 030) makes the public user and its bankroll. Its
    function names the type oauth_provider unqualified and sets no search_path, so it works
    in a session whose search_path has public (postgres's) and fails in GoTrue's, whose
    search_path is auth: on Supabase a signup through GoTrue fails the same way."""
    user_id = uuid.uuid4()
    insert = ("INSERT INTO auth.users (id, email, raw_app_meta_data, raw_user_meta_data)"
              " VALUES (%s, 'new@snapbet.test', '{\"provider\": \"google\"}', '{\"full_name\": \"New\"}')")
    with connect(server, autocommit=False) as conn:
        conn.execute(insert, (user_id,))
        made = conn.execute("SELECT u.oauth_provider::text AS provider, u.display_name, b.balance"
                            " FROM public.users u JOIN public.bankrolls b ON b.user_id = u.id WHERE u.id = %s",
                            (user_id,)).fetchone()
        conn.rollback()
    assert made == {"provider": "google", "display_name": "New", "balance": 100000}
    with connect(server, "supabase_auth_admin", autocommit=False) as conn:
        assert conn.execute("SHOW search_path").fetchone() == {"search_path": "auth"}
        with pytest.raises(psycopg.errors.UndefinedObject, match='type "oauth_provider" does not exist'):
            conn.execute(insert, (user_id,))


def test_storage_objects_is_storages_own_with_rls_and_delete_protection(server):
    with connect(server) as conn:
        table = conn.execute("SELECT pg_get_userbyid(relowner) AS owner, relrowsecurity FROM pg_class"
                             " WHERE oid = 'storage.objects'::regclass").fetchone()
        columns = [r["column_name"] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'storage'"
            " AND table_name = 'objects' ORDER BY ordinal_position")]
    assert table == {"owner": "supabase_storage_admin", "relrowsecurity": True}
    assert columns[:8] == ["id", "bucket_id", "name", "owner", "created_at", "updated_at", "last_accessed_at",
                           "metadata"]
    with connect(server, autocommit=False) as conn:
        conn.execute("INSERT INTO storage.buckets (id, name) VALUES ('posts', 'posts')")
        conn.execute("INSERT INTO storage.objects (bucket_id, name) VALUES ('posts', 'a/b.jpg')")
        assert conn.execute("SELECT count(*) AS n FROM storage.objects").fetchone() == {"n": 1}  # BYPASSRLS
        conn.execute("SAVEPOINT s")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="Direct deletion from storage tables"):
            conn.execute("DELETE FROM storage.objects WHERE name = 'a/b.jpg'")
        conn.execute("ROLLBACK TO SAVEPOINT s")
        conn.execute("SET LOCAL storage.allow_delete_query = 'true'")
        assert conn.execute("DELETE FROM storage.objects WHERE name = 'a/b.jpg'").rowcount == 1
        conn.rollback()


def test_snapbets_tables_are_owned_by_postgres_with_rls(server):
    with connect(server) as conn:
        tables = {r["relname"]: (r["owner"], r["relrowsecurity"]) for r in conn.execute("""
            SELECT relname, pg_get_userbyid(relowner) AS owner, relrowsecurity FROM pg_class
             WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'""")}
    assert {name: tables.get(name) for name in SNAPBET_TABLES} == {name: ("postgres", True) for name in SNAPBET_TABLES}
    # The migrations leave two of SnapBet's tables without RLS (034 and 037 never enable it).
    assert sorted(name for name, (_, rls) in tables.items() if not rls) == [
        "caption_generation_usage", "user_behavioral_metrics"]
    assert {owner for owner, _ in tables.values()} == {"postgres"}


def test_snapbets_migrations_apply_as_they_can(server):
    """Every file in name order; the statements no PostgreSQL accepts fail and no other
    (tests/snapbet/README.md). 033 fails inside its own transaction, so none of it stays,
    though its CREATE EXTENSION vector works for postgres through supautils."""
    assert len(server.snapbet_migrations) == 37
    assert list(server.snapbet_migrations) == sorted(server.snapbet_migrations)
    assert server.snapbet_migrations[15:19] == ("016_add_message_reactions_and_media.sql",
                                                "016_fix_weekly_stats_ambiguity.sql", "017_add_weekly_deposit.sql",
                                                "017_messaging_privacy.sql")
    failed = [entry.split(" ", 2)[:2] for entry in server.failed_statements]
    assert failed == [
        ["001_initial_schema.sql:205", "42P17"], ["001_initial_schema.sql:237", "42P17"],
        ["001_initial_schema.sql:1063", "42601"], ["004_notifications.sql:36", "42710"],
        ["004_notifications.sql:40", "42710"], ["011_search_indexes.sql:30", "42P17"],
        ["017_messaging_privacy.sql:157", "42703"], ["021_add_group_messaging_support.sql:2", "42704"],
        ["021_add_group_messaging_support.sql:13", "23502"], ["033_add_rag_support.sql:208", "42P13"],
        ["035_remove_all_team_preferences.sql:11", "42703"], ["036_add_smart_notification_types.sql:2", "42704"],
        ["036_add_smart_notification_types.sql:3", "42704"], ["036_add_smart_notification_types.sql:4", "42704"],
        ["036_add_smart_notification_types.sql:9", "42703"], ["036_add_smart_notification_types.sql:14", "42703"],
    ]
    with connect(server, autocommit=False) as conn:
        left = conn.execute("""
            SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'vector') AS vector,
                   (SELECT count(*) FROM information_schema.columns
                     WHERE table_schema = 'public' AND table_name = 'posts' AND column_name = 'archived') AS archived,
                   to_regclass('public.embedding_metadata') IS NULL AS no_metadata,
                   (SELECT count(*) FROM public.users WHERE username = 'system') AS system_user""").fetchone()
        assert left == {"vector": 0, "archived": 0, "no_metadata": True, "system_user": 0}
        conn.execute("CREATE EXTENSION vector")
        vector = conn.execute("SELECT extversion, pg_get_userbyid(extowner) AS owner FROM pg_extension"
                              " WHERE extname = 'vector'").fetchone()
        assert vector == {"extversion": "0.8.0", "owner": "supabase_admin"}
        conn.rollback()


def test_the_data_loader_fills_snapbets_real_schema_with_every_kind_of_row(server):
    """tests/supabase_data.py on the migrated schema, as postgres: every NOT NULL column is
    filled (the inserts succeed), SnapBet's triggers keep their counters, balances obey
    docs/rules.md: Money, and each job finds rows to act on and rows to leave."""
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    with connect(server, autocommit=False) as conn:
        data = supabase_data.load(conn, now)
        counts = conn.execute("""
            SELECT (SELECT count(*) FROM public.users) AS users, (SELECT count(*) FROM public.bankrolls) AS bankrolls,
                   (SELECT count(*) FROM public.games) AS games, (SELECT count(*) FROM public.bets) AS bets,
                   (SELECT count(*) FROM public.posts) AS posts, (SELECT count(*) FROM public.comments) AS comments,
                   (SELECT count(*) FROM public.reactions) AS reactions,
                   (SELECT count(*) FROM public.pick_actions) AS pick_actions,
                   (SELECT count(*) FROM public.stories) AS stories, (SELECT count(*) FROM public.chats) AS chats,
                   (SELECT count(*) FROM public.chat_members) AS chat_members,
                   (SELECT count(*) FROM public.messages) AS messages,
                   (SELECT count(*) FROM public.notifications) AS notifications,
                   (SELECT count(*) FROM storage.objects) AS objects""").fetchone()
        assert counts == {"users": 4, "bankrolls": 4, "games": 6, "bets": 13, "posts": 7, "comments": 5,
                          "reactions": 4, "pick_actions": 2, "stories": 3, "chats": 4, "chat_members": 5,
                          "messages": 4, "notifications": 4, "objects": 10}
        assert factories.conservation_violations(conn) == []
        pick = conn.execute("SELECT tail_count, fade_count FROM public.posts WHERE id = %s",
                            (data.posts["pick_4h"],)).fetchone()
        assert pick == {"tail_count": 1, "fade_count": 1}
        due = conn.execute("""
            SELECT (SELECT count(*) FROM public.bets b JOIN public.games g ON g.id = b.game_id
                     WHERE b.status = 'pending' AND g.status IN ('completed', 'cancelled')) AS to_settle,
                   (SELECT array_agg(p.id ORDER BY p.created_at) FROM public.posts p
                     WHERE p.deleted_at IS NULL AND p.post_type IN ('content', 'outcome') AND p.expires_at <= %(now)s)
                     AS expired_posts,
                   (SELECT array_agg(p.id) FROM public.posts p JOIN public.bets b ON b.id = p.bet_id
                      JOIN public.games g ON g.id = b.game_id
                     WHERE p.post_type = 'pick' AND g.commence_time <= %(now)s - interval '3 hours') AS expired_picks,
                   (SELECT count(*) FROM public.notifications WHERE created_at < %(now)s - interval '30 days')
                     AS old_notifications,
                   (SELECT array_agg(c.id) FROM public.chats c WHERE c.chat_type = 'group'
                       AND c.created_at < %(now)s - interval '1 hour'
                       AND NOT EXISTS (SELECT FROM public.chat_members m WHERE m.chat_id = c.id)) AS empty_chats
            """, {"now": now}).fetchone()
        assert due == {"to_settle": 5, "expired_posts": [data.posts["outcome_expired"], data.posts["content_expired"]],
                       "expired_picks": [data.posts["pick_4h"]], "old_notifications": 2,
                       "empty_chats": [data.chats["group_empty_2h"]]}
        orphans = conn.execute("""
            SELECT array_agg(o.id ORDER BY o.name, o.bucket_id) AS ids FROM storage.objects o
             WHERE o.created_at < %(now)s - interval '7 days'
               AND NOT EXISTS (
                     SELECT FROM (SELECT media_url FROM public.posts UNION ALL SELECT thumbnail_url FROM public.posts
                                  UNION ALL SELECT media_url FROM public.messages
                                  UNION ALL SELECT media_url FROM public.stories
                                  UNION ALL SELECT avatar_url FROM public.users) AS u (url)
                      WHERE right(u.url, length(o.bucket_id) + length(o.name) + 2)
                            = '/' || o.bucket_id || '/' || o.name)
            """, {"now": now}).fetchone()["ids"]
        assert orphans == [data.objects[label] for label in ("avatar_orphan", "message_orphan", "post_orphan",
                                                                 "story_orphan")]
        conn.rollback()
