"""A small, deterministic data set for SnapBet's real schema, as tests/supabase.py leaves it
(SnapBet's migrations on a Supabase-shaped database): a few rows of every kind the jobs look
at, every NOT NULL column of the real tables filled, placed in time around `now`.

`load(conn, now)` inserts them as the connection's role, normally `postgres` (BYPASSRLS, so
RLS does not hide or refuse rows), in one transaction, and returns their ids by label, so a
test names the rows it means: `data.posts["content_expired"]`. Ids are fixed (uuid5 of the
label), so two loads at the same `now` write the same rows.

What is in it, relative to `now` (the rules are the README's "The jobs"):

- users alice, bob, carol, dave, each with a bankroll (SnapBet makes bankrolls only in its
  trigger on auth.users, so they are inserted here), balances consistent with their bets
  since `last_reset` (docs/rules.md: Money); avatars in storage bucket `avatars`.
- games: `completed` (final 24-17, pending spread, total, moneyline and push bets),
  `cancelled` (a pending bet to refund), `scheduled` (tomorrow, a pending bet and a pick),
  `started_4h` and `started_1h` (live, one pick each: only the first is past the 3-hour
  grace), `settled` (long over, bets already won and lost, one shared in an outcome post).
- posts: content expired, live, soft-deleted 40 days ago; picks; an expired outcome post;
  comments on the expired post; reactions on expired, live and soft-deleted posts; a tail
  and a fade on a pick.
- stories expired and live; a DM and a group chat with expired and live messages; an empty
  group chat 2 hours old and one 30 minutes old; notifications 31 days and 1 day old; a badge
  from an earlier week and its history row.
- storage.objects in buckets posts, messages, stories and avatars: older than 7 days and
  referenced (by posts.media_url and thumbnail_url, messages.media_url, stories.media_url,
  users.avatar_url, a soft-deleted post's too) or not, and one unreferenced but new.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

NAMESPACE = uuid.UUID("5b1e0b8a-2d7c-4c1e-9a51-0a5e5eb0d17a")
STORAGE_URL = "https://snapbet.supabase.co/storage/v1/object/public"
BUCKETS = ("posts", "messages", "stories", "avatars")
USERS = ("alice", "bob", "carol", "dave")
WEEKLY_DEPOSIT = 100000  # cents; bankrolls' default deposit


@dataclass
class Loaded:
    """The ids of what `load` inserted, by label (games by label to their text id)."""

    now: datetime
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    games: dict[str, str] = field(default_factory=dict)
    bets: dict[str, uuid.UUID] = field(default_factory=dict)
    posts: dict[str, uuid.UUID] = field(default_factory=dict)
    comments: dict[str, uuid.UUID] = field(default_factory=dict)
    reactions: dict[str, uuid.UUID] = field(default_factory=dict)
    pick_actions: dict[str, uuid.UUID] = field(default_factory=dict)
    stories: dict[str, uuid.UUID] = field(default_factory=dict)
    chats: dict[str, uuid.UUID] = field(default_factory=dict)
    messages: dict[str, uuid.UUID] = field(default_factory=dict)
    notifications: dict[str, uuid.UUID] = field(default_factory=dict)
    objects: dict[str, uuid.UUID] = field(default_factory=dict)


def load(conn: psycopg.Connection, now: datetime) -> Loaded:
    """Insert the data set at `now` (timezone-aware) in one transaction; return its ids."""
    data = Loaded(now=now)
    with conn.transaction():
        _users(conn, data)
        _games_and_bets(conn, data)
        _bankrolls(conn, data)
        _posts(conn, data)
        _stories(conn, data)
        _chats(conn, data)
        _notifications_and_badges(conn, data)
        _storage(conn, data)
    return data


def _id(kind: str, label: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{label}")


def url(bucket: str, name: str) -> str:
    """The public URL of a storage object, as SnapBet's rows hold it."""
    return f"{STORAGE_URL}/{bucket}/{name}"


def _insert(conn: psycopg.Connection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    values = [Jsonb(v) if isinstance(v, (dict, list)) else v for v in row.values()]
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)


def _users(conn: psycopg.Connection, data: Loaded) -> None:
    for n, name in enumerate(USERS):
        user_id = data.users[name] = _id("user", name)
        _insert(conn, "public.users", {
            "id": user_id, "email": f"{name}@snapbet.test", "oauth_provider": "google", "oauth_id": f"google-{name}",
            "username": name, "display_name": name.title(), "avatar_url": url("avatars", f"{name}.jpg"),
            "created_at": data.now - timedelta(days=60 - n), "updated_at": data.now - timedelta(days=60 - n),
        })


# --- games and bets ----------------------------------------------------------------------

# label: (status, hours from now to kick-off, home score, away score)
GAMES = {
    "completed": ("completed", -24, 24, 17),
    "cancelled": ("cancelled", -30, None, None),
    "scheduled": ("scheduled", 24, None, None),
    "started_4h": ("live", -4, None, None),
    "started_1h": ("live", -1, None, None),
    "settled": ("completed", -120, 31, 20),
}
# label: (user, game, bet type, details, stake, odds, hours from now placed, status); the
# completed game's pending bets grade won (spread -3.5 on a 7-point win, over 40.5 on 41),
# lost (the loser's moneyline) and push (the loser +7).
BETS = {
    "spread_pending": ("alice", "completed", "spread", {"team": "Home", "line": -3.5}, 1000, -110, -30, "pending"),
    "total_pending": ("bob", "completed", "total", {"total_type": "over", "line": 40.5}, 2000, -110, -30, "pending"),
    "moneyline_pending": ("carol", "completed", "moneyline", {"team": "Away"}, 1500, 150, -30, "pending"),
    "push_pending": ("dave", "completed", "spread", {"team": "Away", "line": 7}, 500, -110, -30, "pending"),
    "cancelled_pending": ("alice", "cancelled", "moneyline", {"team": "Home"}, 800, -120, -40, "pending"),
    "scheduled_pending": ("bob", "scheduled", "moneyline", {"team": "Away"}, 1200, 110, -2, "pending"),
    "pick_4h": ("carol", "started_4h", "spread", {"team": "Home", "line": -6.5}, 1000, -110, -6, "pending"),
    "pick_1h": ("dave", "started_1h", "total", {"total_type": "under", "line": 47.5}, 1000, -105, -2, "pending"),
    "pick_scheduled": ("alice", "scheduled", "spread", {"team": "Home", "line": 2.5}, 1000, -110, -3, "pending"),
    "tail_4h": ("alice", "started_4h", "spread", {"team": "Home", "line": -6.5}, 600, -110, -5, "pending"),
    "fade_4h": ("bob", "started_4h", "spread", {"team": "Away", "line": 6.5}, 700, -110, -5, "pending"),
    "settled_won": ("alice", "settled", "moneyline", {"team": "Home"}, 2000, -150, -124, "won"),
    "settled_lost": ("bob", "settled", "total", {"total_type": "under", "line": 44.5}, 1000, -110, -124, "lost"),
}


def _potential_win(stake: int, odds: int) -> int:
    """SnapBet's calculate_payout: the profit of a winning bet, integer cents."""
    return stake * 100 // abs(odds) if odds < 0 else stake * odds // 100


def _games_and_bets(conn: psycopg.Connection, data: Loaded) -> None:
    for label, (status, hours, home, away) in GAMES.items():
        game_id = data.games[label] = f"game_{label}"
        _insert(conn, "public.games", {
            "id": game_id, "sport": "americanfootball_nfl", "sport_title": "NFL", "home_team": "Home",
            "away_team": "Away", "commence_time": data.now + timedelta(hours=hours), "status": status,
            "home_score": home, "away_score": away, "odds_data": {"bookmaker": "test"},
            "created_at": data.now + timedelta(hours=hours - 72), "last_updated": data.now + timedelta(hours=hours),
        })
    for label, (user, game, bet_type, details, stake, odds, hours, status) in BETS.items():
        placed = data.now + timedelta(hours=hours)
        potential = _potential_win(stake, odds)
        settled = status != "pending"
        data.bets[label] = _id("bet", label)
        _insert(conn, "public.bets", {
            "id": data.bets[label], "user_id": data.users[user], "game_id": data.games[game], "bet_type": bet_type,
            "bet_details": details, "stake": stake, "odds": odds, "potential_win": potential,
            "actual_win": {"won": potential, "lost": -stake}.get(status), "status": status, "created_at": placed,
            "settled_at": placed + timedelta(hours=4) if settled else None,
            "expires_at": data.now + timedelta(hours=GAMES[game][1]),
            "is_tail": label.startswith("tail_"), "is_fade": label.startswith("fade_"),
        })


def _bankrolls(conn: psycopg.Connection, data: Loaded) -> None:
    """One per user, reset 10 days ago (all the bets are younger): balance = deposit - stakes
    + what settled bets paid back (docs/rules.md: Money); counters to match."""
    for name, user_id in data.users.items():
        bets = [b for b in BETS.values() if b[0] == name]
        staked = sum(b[4] for b in bets)
        won = [b for b in bets if b[7] == "won"]
        returned = sum(b[4] + _potential_win(b[4], b[5]) for b in won)
        _insert(conn, "public.bankrolls", {
            "user_id": user_id, "balance": WEEKLY_DEPOSIT - staked + returned, "total_wagered": staked,
            "total_won": sum(_potential_win(b[4], b[5]) for b in won), "win_count": len(won),
            "loss_count": sum(1 for b in bets if b[7] == "lost"), "push_count": 0,
            "weekly_deposit": WEEKLY_DEPOSIT, "referral_bonus": 0, "last_reset": data.now - timedelta(days=10),
            "stats_metadata": {"weeklyHistory": []}, "created_at": data.now - timedelta(days=60),
            "updated_at": data.now - timedelta(days=1),
        })


# --- posts and what hangs off them -------------------------------------------------------

def _posts(conn: psycopg.Connection, data: Loaded) -> None:
    now = data.now
    # label: (author, type, bet label, created, expires, deleted)
    posts = {
        "content_expired": ("alice", "content", None, now - timedelta(hours=26), now - timedelta(hours=2), None),
        "content_live": ("bob", "content", None, now - timedelta(hours=1), now + timedelta(hours=23), None),
        "content_deleted_40d": ("carol", "content", None, now - timedelta(days=42), now - timedelta(days=41),
                                now - timedelta(days=40)),
        "pick_4h": ("carol", "pick", "pick_4h", now - timedelta(hours=6), now + timedelta(hours=18), None),
        "pick_1h": ("dave", "pick", "pick_1h", now - timedelta(hours=2), now + timedelta(hours=22), None),
        "pick_scheduled": ("alice", "pick", "pick_scheduled", now - timedelta(hours=3), now + timedelta(hours=21),
                           None),
        "outcome_expired": ("alice", "outcome", "settled_won", now - timedelta(days=4), now - timedelta(days=3),
                            None),
    }
    for label, (author, post_type, bet, created, expires, deleted) in posts.items():
        data.posts[label] = _id("post", label)
        _insert(conn, "public.posts", {
            "id": data.posts[label], "user_id": data.users[author], "post_type": post_type,
            "bet_id": data.bets[bet] if post_type == "pick" else None,
            "settled_bet_id": data.bets[bet] if post_type == "outcome" else None,
            "media_url": url("posts", f"{label}.jpg"), "media_type": "photo",
            "thumbnail_url": url("posts", f"{label}_thumb.jpg"), "caption": f"{label} caption",
            "created_at": created, "expires_at": expires, "deleted_at": deleted,
        })
    for label, (post, user, hours, deleted) in {
        "on_expired_1": ("content_expired", "bob", -20, None),
        "on_expired_2": ("content_expired", "carol", -10, None),
        "on_expired_deleted": ("content_expired", "dave", -12, -11),
        "on_live": ("content_live", "alice", -0.5, None),
        "on_deleted_40d": ("content_deleted_40d", "alice", -24 * 41, None),
    }.items():
        data.comments[label] = _id("comment", label)
        _insert(conn, "public.comments", {
            "id": data.comments[label], "post_id": data.posts[post], "user_id": data.users[user],
            "content": f"comment {label}", "created_at": now + timedelta(hours=hours),
            "deleted_at": now + timedelta(hours=deleted) if deleted is not None else None,
        })
    for label, (post, user, emoji) in {
        "fire_expired": ("content_expired", "bob", "🔥"), "laugh_expired": ("content_expired", "carol", "😂"),
        "fire_live": ("content_live", "alice", "🔥"), "skull_deleted_40d": ("content_deleted_40d", "dave", "💀"),
    }.items():
        data.reactions[label] = _id("reaction", label)
        _insert(conn, "public.reactions", {
            "id": data.reactions[label], "post_id": data.posts[post], "user_id": data.users[user], "emoji": emoji,
            "created_at": now - timedelta(hours=1),
        })
    for label, (user, action, bet) in {"tail_4h": ("alice", "tail", "tail_4h"),
                                        "fade_4h": ("bob", "fade", "fade_4h")}.items():
        data.pick_actions[label] = _id("pick_action", label)
        _insert(conn, "public.pick_actions", {
            "id": data.pick_actions[label], "post_id": data.posts["pick_4h"], "user_id": data.users[user],
            "action_type": action, "resulting_bet_id": data.bets[bet], "created_at": now - timedelta(hours=5),
        })


def _stories(conn: psycopg.Connection, data: Loaded) -> None:
    now = data.now
    for label, (user, created, expires, deleted) in {
        "expired": ("bob", now - timedelta(hours=30), now - timedelta(hours=6), None),
        "live": ("carol", now - timedelta(hours=2), now + timedelta(hours=22), None),
        "deleted_10d": ("dave", now - timedelta(days=11), now - timedelta(days=10), now - timedelta(days=10)),
    }.items():
        data.stories[label] = _id("story", label)
        _insert(conn, "public.stories", {
            "id": data.stories[label], "user_id": data.users[user], "media_url": url("stories", f"{label}.mp4"),
            "media_type": "video", "caption": f"story {label}", "story_type": "manual",
            "story_content_type": "content", "metadata": {}, "created_at": created, "expires_at": expires,
            "deleted_at": deleted,
        })


# --- chats -------------------------------------------------------------------------------

def _chats(conn: psycopg.Connection, data: Loaded) -> None:
    """Chats are inserted at the real clock's now() and backdated once their members are in:
    SnapBet's trigger on chat_members writes a "joined the group" message, from a system user
    its migrations never create, for a member added to a group over a minute old."""
    now = data.now
    chats = {  # label: (type, name, members, created)
        "dm": ("dm", None, ("alice", "bob"), now - timedelta(days=3)),
        "group": ("group", "Sunday crew", ("alice", "bob", "carol"), now - timedelta(days=5)),
        "group_empty_2h": ("group", "Nobody left", (), now - timedelta(hours=2)),
        "group_empty_30m": ("group", "Just made", (), now - timedelta(minutes=30)),
    }
    for label, (chat_type, name, members, created) in chats.items():
        chat_id = data.chats[label] = _id("chat", label)
        creator = data.users[members[0]] if members else None
        _insert(conn, "public.chats", {"id": chat_id, "chat_type": chat_type, "name": name, "created_by": creator,
                                       "settings": {"expiration_hours": 24}})
        for n, member in enumerate(members):
            _insert(conn, "public.chat_members", {
                "chat_id": chat_id, "user_id": data.users[member], "role": "admin" if n == 0 else "member",
                "joined_at": created, "last_read_at": created, "is_archived": False,
            })
        conn.execute("UPDATE public.chats SET created_at = %s WHERE id = %s", (created, chat_id))
    for label, (chat, sender, created, expires, media) in {
        "dm_expired": ("dm", "alice", now - timedelta(hours=30), now - timedelta(hours=6), "dm_expired.jpg"),
        "dm_live": ("dm", "bob", now - timedelta(hours=1), now + timedelta(hours=23), None),
        "group_expired": ("group", "carol", now - timedelta(days=2), now - timedelta(days=1), "group_expired.jpg"),
        "group_live": ("group", "alice", now - timedelta(minutes=10), now + timedelta(hours=24), None),
    }.items():
        data.messages[label] = _id("message", label)
        _insert(conn, "public.messages", {
            "id": data.messages[label], "chat_id": data.chats[chat], "sender_id": data.users[sender],
            "content": f"message {label}", "media_url": url("messages", media) if media else None,
            "media_type": "photo" if media else None, "message_type": "media" if media else "text",
            "metadata": {}, "created_at": created, "expires_at": expires,
        })


def _notifications_and_badges(conn: psycopg.Connection, data: Loaded) -> None:
    now = data.now
    for label, (user, kind, age, read) in {
        "old_31d": ("alice", "bet_won", timedelta(days=31), True),
        "old_40d": ("bob", "system", timedelta(days=40), False),
        "new_1d": ("carol", "bet_lost", timedelta(days=1), False),
        "new_29d": ("dave", "tail", timedelta(days=29), True),
    }.items():
        data.notifications[label] = _id("notification", label)
        created = now - age
        _insert(conn, "public.notifications", {
            "id": data.notifications[label], "user_id": data.users[user], "type": kind,
            "data": {"label": label}, "read": read, "read_at": created + timedelta(hours=1) if read else None,
            "created_at": created,
        })
    earned = now - timedelta(days=9)
    _insert(conn, "public.user_badges", {"user_id": data.users["alice"], "badge_id": "hot_streak",
                                         "earned_at": earned, "lost_at": None})
    _insert(conn, "public.badge_history", {"id": _id("badge_history", "alice_hot_streak"),
                                           "user_id": data.users["alice"], "badge_id": "hot_streak",
                                           "action": "earned", "created_at": earned})


# --- storage -----------------------------------------------------------------------------

def _storage(conn: psycopg.Connection, data: Loaded) -> None:
    """Objects older than 7 days, referenced by each URL column or by nothing, and one new."""
    now = data.now
    for bucket in BUCKETS:
        _insert(conn, "storage.buckets", {"id": bucket, "name": bucket, "public": True,
                                          "created_at": now - timedelta(days=90)})
    objects = {  # label: (bucket, name, age)
        "post_media_deleted_40d": ("posts", "content_deleted_40d.jpg", timedelta(days=42)),
        "post_thumb_deleted_40d": ("posts", "content_deleted_40d_thumb.jpg", timedelta(days=42)),
        "post_orphan": ("posts", "orphan.jpg", timedelta(days=8)),
        "message_media": ("messages", "group_expired.jpg", timedelta(days=8)),
        "message_orphan": ("messages", "orphan.jpg", timedelta(days=9)),
        "story_media_deleted_10d": ("stories", "deleted_10d.mp4", timedelta(days=11)),
        "story_orphan": ("stories", "orphan.mp4", timedelta(days=12)),
        "avatar": ("avatars", "alice.jpg", timedelta(days=60)),
        "avatar_orphan": ("avatars", "old_alice.jpg", timedelta(days=61)),
        "post_orphan_new": ("posts", "orphan_new.jpg", timedelta(days=2)),
    }
    for label, (bucket, name, age) in objects.items():
        data.objects[label] = _id("object", label)
        _insert(conn, "storage.objects", {
            "id": data.objects[label], "bucket_id": bucket, "name": name, "owner_id": str(data.users["alice"]),
            "created_at": now - age, "updated_at": now - age, "last_accessed_at": now - age,
            "metadata": {"size": 1024, "mimetype": "video/mp4" if name.endswith(".mp4") else "image/jpeg"},
        })
