"""cleanup_media and `deployer media purge` (docs/rules.md: The jobs, Boundaries): what is an orphan, the queue, and a
purge over a real temporary directory: missing files, names that would escape it, a crash
between a file's deletion and its row's, idempotence."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from deployer import media
from deployer import seed as seed_mod
from tests import factories
from tests.support import call_job
from tests.support import cli as deployer

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
CDN = "https://cdn.test/storage/v1/object/public/"


def run(conn, now: datetime = NOW, *, dry_run: bool = False, limit: int | None = None) -> dict:
    return call_job(conn, "cleanup_media", now, dry_run, limit)


def upload(conn, bucket: str, name: str, created_at: datetime = NOW - 8 * DAY):
    return conn.execute("INSERT INTO storage.objects (bucket_id, name, created_at) VALUES (%s, %s, %s) RETURNING id",
                        (bucket, name, created_at)).fetchone()["id"]


def queued(conn) -> set[str]:
    return {f"{r['bucket_id']}/{r['name']}" for r in conn.execute(
        "SELECT bucket_id, name FROM jobs.media_purge_queue").fetchall()}


# --- what is an orphan ----------------------------------------------------------------------

def test_an_object_is_kept_while_any_url_column_points_to_it_deleted_rows_included(conn):
    user_id = factories.user(conn, avatar_url=CDN + "avatars/u/me.png")
    chat = factories.chat(conn)
    post = factories.post(conn, user_id, created_at=NOW - 9 * DAY, expires_at=NOW - 8 * DAY,
                          deleted_at=NOW - 8 * DAY, media_url=CDN + "posts/u/p.jpg",
                          thumbnail_url=CDN + "posts/u/p-thumb.jpg")
    factories.story(conn, user_id, created_at=NOW - 9 * DAY, expires_at=NOW - 8 * DAY)
    conn.execute("UPDATE public.stories SET media_url = %s", (CDN + "stories/u/s.mp4",))
    factories.message(conn, chat, user_id, created_at=NOW - 9 * DAY, expires_at=NOW + DAY)
    conn.execute("UPDATE public.messages SET media_url = %s", (CDN + "messages/u/m.jpg",))
    referenced = ["avatars/u/me.png", "posts/u/p.jpg", "posts/u/p-thumb.jpg", "stories/u/s.mp4", "messages/u/m.jpg"]
    for path in referenced + ["posts/u/orphan.jpg", "avatars/u/old.png"]:
        upload(conn, *path.split("/", 1))
    assert post is not None
    assert run(conn)["details"] == {"queued": 2}
    assert queued(conn) == {"posts/u/orphan.jpg", "avatars/u/old.png"}


@pytest.mark.parametrize(("age", "orphan"), [(7 * DAY, False), (7 * DAY + timedelta(microseconds=1), True)],
                         ids=["7d", "7d+1us"])
def test_the_grace_period_is_strict(conn, age, orphan):
    upload(conn, "posts", "new.jpg", NOW - age)
    assert run(conn)["affected"] == int(orphan)


def test_names_compare_as_plain_text_and_other_buckets_are_left_alone(conn):
    user_id = factories.user(conn)
    factories.post(conn, user_id, created_at=NOW, expires_at=NOW + DAY, media_url=CDN + "posts/a_b%c.jpg")
    upload(conn, "posts", "a_b%c.jpg")      # the URL's own: kept
    upload(conn, "posts", "axb%c.jpg")      # '_' is not a wildcard: an orphan
    upload(conn, "posts", "a_bxxc.jpg")     # nor is '%'
    upload(conn, "posts", "b%c.jpg")        # ends the URL, but not after a '/': an orphan
    upload(conn, "exports", "report.csv")   # not a media bucket
    run(conn)
    assert queued(conn) == {"posts/axb%c.jpg", "posts/a_bxxc.jpg", "posts/b%c.jpg"}


def test_the_dry_run_predicts_the_real_run_and_an_object_is_queued_once(conn):
    for i in range(7):
        upload(conn, "posts", f"o{i}.jpg")
    before = factories.digest(conn, "jobs.media_purge_queue", "storage.objects")
    dry = run(conn, dry_run=True)
    assert factories.digest(conn, "jobs.media_purge_queue", "storage.objects") == before
    conn.execute("UPDATE jobs.job_registry SET batch_size = 2, min_batch_size = 2, max_batch_size = 2"
                 " WHERE job_name = 'cleanup_media'")
    conn.execute("CALL jobs.run_job('cleanup_media', %s)", (NOW,))
    row = conn.execute("SELECT affected_count, details, batches FROM jobs.job_executions").fetchone()
    assert (row["affected_count"], row["details"], row["batches"]) == (7, dry["details"], 4)
    assert run(conn) == {"affected": 0, "details": {"queued": 0}, "next": None}


# --- the window: after a complete run, what can have become an orphan since --------------------

def journal(conn) -> list[str]:
    return sorted(r["url"] for r in conn.execute("SELECT url FROM jobs.media_dropped").fetchall())


def test_the_app_dropping_a_url_journals_it_once_and_nothing_else_does(conn):
    user_id = factories.user(conn, avatar_url=CDN + "avatars/u/a.png")
    post = factories.post(conn, user_id, created_at=NOW - 9 * DAY, expires_at=NOW + DAY,
                          media_url=CDN + "posts/u/p.jpg", thumbnail_url=CDN + "posts/u/t.jpg")
    factories.post(conn, user_id, created_at=NOW - 9 * DAY, expires_at=NOW + DAY, media_url=CDN + "posts/u/q.jpg")
    conn.execute("UPDATE public.posts SET caption = 'edited', reaction_count = 1")  # no URL changed
    conn.execute("UPDATE public.users SET avatar_url = avatar_url")                 # the same URL
    assert journal(conn) == []
    conn.execute("UPDATE public.users SET avatar_url = %s", (CDN + "avatars/u/b.png",))
    conn.execute("UPDATE public.posts SET thumbnail_url = NULL WHERE id = %s", (post,))
    conn.execute("DELETE FROM public.posts")  # one statement, two rows: the URLs they still held
    assert journal(conn) == [CDN + "avatars/u/a.png", CDN + "posts/u/p.jpg", CDN + "posts/u/q.jpg",
                             CDN + "posts/u/t.jpg"]


def test_after_a_complete_run_only_objects_that_can_have_become_orphans_since_are_checked(conn):
    user_id = factories.user(conn, avatar_url=CDN + "avatars/u/a.png")
    post = factories.post(conn, user_id, created_at=NOW - 40 * DAY, expires_at=NOW + DAY,
                          media_url=CDN + "posts/u/p.jpg")
    for path in ("avatars/u/a.png", "posts/u/p.jpg"):
        upload(conn, *path.split("/", 1), NOW - 40 * DAY)
    upload(conn, "posts", "young.jpg", NOW - 6 * DAY - 12 * HOUR)  # its grace ends before the next run
    assert run(conn)["details"] == {"queued": 0}
    assert conn.execute("SELECT (state ->> 'seen')::timestamptz AS at FROM jobs.job_state"
                        " WHERE job_name = 'cleanup_media'").fetchone()["at"] == NOW
    conn.execute("DELETE FROM public.posts WHERE id = %s", (post,))
    conn.execute("UPDATE public.users SET avatar_url = %s", (CDN + "avatars/u/b.png",))
    upload(conn, "posts", "unseen.jpg", NOW - 30 * DAY)  # an orphan that left no trace since the run
    later = NOW + DAY
    assert run(conn, later, dry_run=True)["details"] == {"queued": 3}
    conn.execute("UPDATE jobs.job_registry SET batch_size = 1, min_batch_size = 1, max_batch_size = 1"
                 " WHERE job_name = 'cleanup_media'")
    conn.execute("CALL jobs.run_job('cleanup_media', %s)", (later,))  # the window, one object a batch
    row = conn.execute("SELECT affected_count, batches FROM jobs.job_executions ORDER BY id DESC LIMIT 1").fetchone()
    assert (row["affected_count"], row["batches"]) == (3, 4)
    assert queued(conn) == {"posts/u/p.jpg", "avatars/u/a.png", "posts/young.jpg"}
    conn.execute("UPDATE jobs.job_state SET state = state - 'seen' WHERE job_name = 'cleanup_media'")
    assert run(conn, later)["details"] == {"queued": 1}  # no moment: every object
    assert "posts/unseen.jpg" in queued(conn)


def test_a_complete_run_drops_the_journal_rows_older_than_the_next_runs_window(conn):
    conn.execute("INSERT INTO jobs.media_dropped (url, dropped_at) VALUES (%s, %s), (%s, %s)",
                 (CDN + "posts/old.jpg", NOW - HOUR, CDN + "posts/new.jpg",
                  NOW - HOUR + timedelta(microseconds=1)))
    run(conn, dry_run=True)
    assert len(journal(conn)) == 2  # a dry run writes nothing
    run(conn)
    assert journal(conn) == [CDN + "posts/new.jpg"]


def triggers(conn) -> list[str]:
    return [f"{r['tgrelid']}.{r['tgname']}" for r in conn.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE tgname LIKE 'jobset\\_%' ORDER BY 1, 2")]


def test_removing_the_job_from_the_manifest_drops_its_triggers_from_the_apps_tables(db, conn, tmp_path):
    assert triggers(conn) == [f"{t}.jobset_media_{w}" for t in ("messages", "posts", "stories", "users")
                              for w in ("changed", "deleted")]
    text = (Path(__file__).parent.parent / "sql" / "jobs.toml").read_text()
    manifest = tmp_path / "jobs.toml"
    manifest.write_text(text[:text.index("[jobs.cleanup_media]")] + text[text.index("[environments"):])
    result = deployer("deploy", "--no-schedule", "--manifest", str(manifest), dsn=db)
    assert result.returncode == 0, result.stderr
    assert "remove job cleanup_media" in result.stdout
    assert triggers(conn) == []
    assert conn.execute("SELECT count(*) AS n FROM pg_proc WHERE proname LIKE 'media\\_%'").fetchone()["n"] == 0
    conn.execute("DELETE FROM public.users")  # the app's writes go on without them


# --- the purge ------------------------------------------------------------------------------

@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "storage"
    path.mkdir()
    return path


def put(root: Path, bucket: str, name: str) -> Path:
    path = root / bucket / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_purge_deletes_the_file_then_the_row_then_marks_it_and_a_missing_file_is_no_error(db, conn, root,
                                                                                           test_manifest):
    kept = put(root, "posts", "u/kept.jpg")
    gone = put(root, "posts", "u/gone.jpg")
    upload(conn, "posts", "u/gone.jpg")
    upload(conn, "posts", "u/never-there.jpg")
    run(conn)
    report = media.purge(db, test_manifest, media.Directory(root))
    assert sorted((i.name, i.outcome) for i in report.items) == [("u/gone.jpg", "deleted"),
                                                                 ("u/never-there.jpg", "already gone")]
    assert (kept.exists(), gone.exists()) == (True, False)
    assert conn.execute("SELECT count(*) AS n FROM storage.objects").fetchone()["n"] == 0
    rows = conn.execute("SELECT outcome, done_at IS NOT NULL AS done FROM jobs.media_purge_queue"
                        " ORDER BY outcome").fetchall()
    assert rows == [{"outcome": "already gone", "done": True}, {"outcome": "deleted", "done": True}]
    assert media.purge(db, test_manifest, media.Directory(root)).items == []  # idempotent


def test_names_that_would_escape_the_root_are_refused_reported_and_left_queued(db, conn, root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("keep me")
    (root / "posts").mkdir()
    os.symlink(outside, root / "posts" / "link")
    os.symlink(secret, root / "posts" / "file-link")
    for name in ("../../outside/secret.txt", "/etc/hostname", "link/secret.txt", "file-link", "a/../../x"):
        upload(conn, "posts", name)
    run(conn)
    result = deployer("media", "purge", "--root", str(root), "--json", dsn=db)
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["counts"] == {"deleted": 0, "already gone": 0, "referenced again": 0, "refused": 5}
    assert all(item["why"] for item in document["items"])
    assert secret.read_text() == "keep me" and (root / "posts" / "file-link").is_symlink()
    rows = conn.execute("SELECT count(*) FILTER (WHERE done_at IS NULL AND refused IS NOT NULL) AS refused,"
                        " count(*) AS n FROM jobs.media_purge_queue").fetchone()
    assert rows == {"refused": 5, "n": 5}
    assert conn.execute("SELECT count(*) AS n FROM storage.objects").fetchone()["n"] == 5


def test_a_symlink_that_stays_inside_the_root_is_an_ordinary_name(db, conn, root, test_manifest):
    put(root, "posts", "real/photo.jpg")
    os.symlink(root / "posts" / "real", root / "posts" / "alias")
    upload(conn, "posts", "alias/photo.jpg")
    run(conn)
    report = media.purge(db, test_manifest, media.Directory(root))
    assert [i.outcome for i in report.items] == ["deleted"]
    assert not (root / "posts" / "real" / "photo.jpg").exists()


def test_an_object_referenced_again_after_it_was_queued_is_not_deleted(db, conn, root, test_manifest):
    path = put(root, "posts", "u/late.jpg")
    upload(conn, "posts", "u/late.jpg")
    run(conn)
    user_id = factories.user(conn)
    factories.post(conn, user_id, created_at=NOW, expires_at=NOW + DAY, media_url=CDN + "posts/u/late.jpg")
    report = media.purge(db, test_manifest, media.Directory(root))
    assert [i.outcome for i in report.items] == ["referenced again"]
    assert path.exists() and conn.execute("SELECT count(*) AS n FROM storage.objects").fetchone()["n"] == 1


def test_a_crash_between_the_file_and_its_row_is_finished_by_the_next_purge(db, conn, root, test_manifest):
    paths = [put(root, "posts", f"c{i}.jpg") for i in range(3)]
    for i in range(3):
        upload(conn, "posts", f"c{i}.jpg")
    run(conn)

    seen: list[str] = []

    def crash(item) -> None:
        seen.append(item.name)
        if len(seen) == 2:
            raise KeyboardInterrupt("the process dies here")

    with pytest.raises(KeyboardInterrupt):
        media.purge(db, test_manifest, media.Directory(root), after_file=crash)
    first, second = seen
    third = ({"c0.jpg", "c1.jpg", "c2.jpg"} - set(seen)).pop()
    assert [(root / "posts" / n).exists() for n in (first, second, third)] == [False, False, True]
    state = {r["name"]: (r["object"], r["done"]) for r in conn.execute(
        "SELECT q.name, o.id IS NOT NULL AS object, q.done_at IS NOT NULL AS done FROM jobs.media_purge_queue q"
        " LEFT JOIN storage.objects o ON o.id = q.object_id").fetchall()}
    assert state == {first: (False, True), second: (True, False), third: (True, False)}
    report = media.purge(db, test_manifest, media.Directory(root))
    assert sorted((i.name, i.outcome) for i in report.items) == sorted([(second, "already gone"), (third, "deleted")])
    assert conn.execute("SELECT count(*) AS n FROM storage.objects").fetchone()["n"] == 0
    assert not any(p.exists() for p in paths)


def test_the_dry_run_lists_the_files_and_changes_nothing(db, conn, root):
    path = put(root, "avatars", "u/old.png")
    upload(conn, "avatars", "u/old.png")
    run(conn)
    before = factories.digest(conn, "jobs.media_purge_queue", "storage.objects")
    result = deployer("media", "purge", "--root", str(root), "--dry-run", dsn=db)
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout.replace("\n", "") or "u/old.png" in result.stdout
    assert "would delete 1" in result.stdout
    assert path.exists() and factories.digest(conn, "jobs.media_purge_queue", "storage.objects") == before


def test_the_dry_run_reports_what_the_real_run_then_does_and_every_outcome_says_why(db, conn, root):
    """A file there, one already gone, a directory where a file should be (not deletable), one
    a row points to again: the dry run checks what the real run checks."""
    put(root, "posts", "u/there.jpg")
    (root / "posts" / "u" / "a-directory.jpg").mkdir()
    for name in ("u/there.jpg", "u/gone.jpg", "u/a-directory.jpg", "u/again.jpg"):
        upload(conn, "posts", name)
    run(conn)
    factories.user(conn, avatar_url=CDN + "posts/u/again.jpg")

    def outcomes(*args: str) -> tuple[int, dict]:
        result = deployer("media", "purge", "--root", str(root), "--json", *args, dsn=db)
        document = json.loads(result.stdout)
        assert all(item["why"] for item in document["items"]), document
        return result.returncode, {i["name"]: (i["outcome"], i["why"]) for i in document["items"]}

    code, dry = outcomes("--dry-run")
    assert code == 1  # a refusal, as the real run will say
    assert {name: outcome for name, (outcome, _) in dry.items()} == {
        "u/there.jpg": "would delete", "u/gone.jpg": "already gone", "u/a-directory.jpg": "refused",
        "u/again.jpg": "referenced again"}
    assert (root / "posts" / "u" / "there.jpg").exists()
    code, real = outcomes()
    assert code == 1
    assert {name: outcome for name, (outcome, _) in real.items()} == {
        **{name: outcome for name, (outcome, _) in dry.items()}, "u/there.jpg": "deleted"}
    assert real["u/a-directory.jpg"][1] == dry["u/a-directory.jpg"][1] == (
        f"cannot delete {root.resolve() / 'posts' / 'u' / 'a-directory.jpg'}: Is a directory")
    assert not (root / "posts" / "u" / "there.jpg").exists() and (root / "posts" / "u" / "a-directory.jpg").is_dir()
    table = deployer("media", "purge", "--root", str(root), "--dry-run", dsn=db)
    assert table.returncode == 1
    assert table.stdout.splitlines()[-1] == "would delete 0, already gone 0, referenced again 0, refused 1"


def test_a_bad_root_is_one_line_and_exit_2(db):
    result = deployer("media", "purge", "--root", "/no/such/dir", dsn=db)
    assert (result.returncode, result.stderr.strip().count("\n")) == (2, 0)
    assert "not a directory" in result.stderr


def test_on_the_seed_exactly_the_old_unreferenced_files_go(db, conn, root, test_manifest):
    seed_mod.seed(conn, users=120, seed=5, now=NOW, variables=test_manifest.template_vars())
    objects = conn.execute("SELECT id, bucket_id, name, created_at FROM storage.objects").fetchall()
    for o in objects:
        put(root, o["bucket_id"], o["name"])
    expected = {r["id"] for r in conn.execute("""
        WITH urls AS (SELECT media_url AS u FROM public.posts UNION ALL SELECT thumbnail_url FROM public.posts
                      UNION ALL SELECT media_url FROM public.messages UNION ALL SELECT media_url FROM public.stories
                      UNION ALL SELECT avatar_url FROM public.users)
        SELECT o.id FROM storage.objects o
         WHERE o.bucket_id IN ('posts', 'messages', 'avatars', 'stories') AND o.created_at < %s
           AND NOT EXISTS (SELECT FROM urls WHERE right(u, length('/' || o.bucket_id || '/' || o.name))
                                                  = '/' || o.bucket_id || '/' || o.name)""",
                                                      (NOW - 7 * DAY,)).fetchall()}
    assert expected
    conn.execute("CALL jobs.run_job('cleanup_media', %s)", (NOW,))
    media.purge(db, test_manifest, media.Directory(root))
    left = {r["id"] for r in conn.execute("SELECT id FROM storage.objects").fetchall()}
    assert left == {o["id"] for o in objects} - expected
    files = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert files == {f"{o['bucket_id']}/{o['name']}" for o in objects if o["id"] not in expected}
