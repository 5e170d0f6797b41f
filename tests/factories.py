"""Rows for tests, inserted with the fewest columns the app schema needs.

Every function takes an autocommit psycopg connection and returns the new row's id.
Times are explicit: tests pass the run's `now` and place rows around it.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

_seq = itertools.count(1)


def _insert(conn, table: str, values: dict[str, Any], key: str = "id") -> Any:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    params = [Jsonb(v) if isinstance(v, (dict, list)) else v for v in values.values()]
    row = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {key}", params).fetchone()
    return row[key]


def user(conn, *, referral_count: int = 0, created_at: datetime | None = None, **extra: Any) -> uuid.UUID:
    n = next(_seq)
    values = {"email": f"user{n}@example.test", "username": f"user{n}", "referral_count": referral_count, **extra}
    if created_at is not None:
        values["created_at"] = created_at
    return _insert(conn, "public.users", values)


def bankroll(conn, user_id: uuid.UUID, **values: Any) -> uuid.UUID:
    return _insert(conn, "public.bankrolls", {"user_id": user_id, **values}, key="user_id")


def game(conn, *, commence_time: datetime, status: str = "scheduled", home_score: int | None = None,
         away_score: int | None = None, sport: str = "americanfootball_nfl") -> str:
    return _insert(conn, "public.games", {
        "id": f"game{next(_seq)}", "sport": sport, "sport_title": "NFL", "home_team": "Home", "away_team": "Away",
        "commence_time": commence_time, "status": status, "home_score": home_score, "away_score": away_score,
    })


def bet(conn, user_id: uuid.UUID, game_id: str, *, created_at: datetime, stake: int = 1000,
        status: str = "pending", odds: int = -110, actual_win: int | None = None,
        settled_at: datetime | None = None, bet_type: str = "moneyline",
        bet_details: dict | None = None, **extra: Any) -> uuid.UUID:
    return _insert(conn, "public.bets", {
        "user_id": user_id, "game_id": game_id, "bet_type": bet_type,
        "bet_details": bet_details or {"team": "Home"}, "stake": stake, "odds": odds,
        "potential_win": stake * 100 // abs(odds) if odds < 0 else stake * odds // 100,
        "actual_win": actual_win, "status": status, "created_at": created_at, "settled_at": settled_at, **extra,
    })


def post(conn, user_id: uuid.UUID, *, created_at: datetime, expires_at: datetime, post_type: str = "content",
         deleted_at: datetime | None = None, bet_id: uuid.UUID | None = None,
         settled_bet_id: uuid.UUID | None = None, **extra: Any) -> uuid.UUID:
    return _insert(conn, "public.posts", {
        "user_id": user_id, "post_type": post_type, "media_url": f"https://cdn.test/posts/{next(_seq)}.jpg",
        "created_at": created_at, "expires_at": expires_at, "deleted_at": deleted_at, "bet_id": bet_id,
        "settled_bet_id": settled_bet_id, **extra,
    })


def comment(conn, post_id: uuid.UUID, user_id: uuid.UUID, *, created_at: datetime,
            deleted_at: datetime | None = None) -> uuid.UUID:
    return _insert(conn, "public.comments", {
        "post_id": post_id, "user_id": user_id, "content": "nice", "created_at": created_at, "deleted_at": deleted_at,
    })


def reaction(conn, post_id: uuid.UUID, user_id: uuid.UUID, *, created_at: datetime) -> uuid.UUID:
    return _insert(conn, "public.reactions", {"post_id": post_id, "user_id": user_id, "emoji": "🔥",
                                              "created_at": created_at})


def story(conn, user_id: uuid.UUID, *, created_at: datetime, expires_at: datetime,
          deleted_at: datetime | None = None) -> uuid.UUID:
    return _insert(conn, "public.stories", {
        "user_id": user_id, "media_url": f"https://cdn.test/stories/{next(_seq)}.jpg",
        "created_at": created_at, "expires_at": expires_at, "deleted_at": deleted_at,
    })


def chat(conn, *, chat_type: str = "dm", name: str | None = None) -> uuid.UUID:
    """A chat; a group gets a name (SnapBet's chats_name_check: groups named, DMs not)."""
    if chat_type == "group" and name is None:
        name = f"group{next(_seq)}"
    return _insert(conn, "public.chats", {"chat_type": chat_type, "name": name})


def message(conn, chat_id: uuid.UUID, sender_id: uuid.UUID, *, created_at: datetime, expires_at: datetime,
            deleted_at: datetime | None = None) -> uuid.UUID:
    return _insert(conn, "public.messages", {
        "chat_id": chat_id, "sender_id": sender_id, "content": "hi", "created_at": created_at,
        "expires_at": expires_at, "deleted_at": deleted_at,
    })


def expired_posts(conn, now: datetime, count: int) -> list[uuid.UUID]:
    """`count` content posts that expired one hour before `now`, oldest first."""
    author = user(conn)
    return [
        post(conn, author, created_at=now - timedelta(days=1), expires_at=now - timedelta(hours=1, seconds=count - i))
        for i in range(count)
    ]


# --- Added for the expire_content and reset_bankrolls tests (append only). ---

def pick(conn, user_id: uuid.UUID, *, commence_time: datetime, created_at: datetime, expires_at: datetime,
         deleted_at: datetime | None = None) -> uuid.UUID:
    """A pick post sharing a fresh pending bet on a fresh game that starts at `commence_time`."""
    game_id = game(conn, commence_time=commence_time)
    bet_id = bet(conn, user_id, game_id, created_at=created_at)
    return post(conn, user_id, post_type="pick", bet_id=bet_id, created_at=created_at, expires_at=expires_at,
                deleted_at=deleted_at)


def outcome(conn, user_id: uuid.UUID, *, created_at: datetime, expires_at: datetime,
            deleted_at: datetime | None = None) -> uuid.UUID:
    """An outcome post sharing a fresh won bet (its game long completed)."""
    game_id = game(conn, commence_time=created_at - timedelta(hours=4), status="completed", home_score=21,
                   away_score=14)
    bet_id = bet(conn, user_id, game_id, created_at=created_at - timedelta(hours=5), status="won",
                 actual_win=909, settled_at=created_at - timedelta(hours=1))
    return post(conn, user_id, post_type="outcome", settled_bet_id=bet_id, created_at=created_at,
                expires_at=expires_at, deleted_at=deleted_at)


def settled_bet(conn, user_id: uuid.UUID, game_id: str, *, created_at: datetime, status: str, stake: int = 1000,
                odds: int = -110, settled_at: datetime | None = None) -> uuid.UUID:
    """A bet already settled as `status` (won, lost, push or cancelled), actual_win as docs/rules.md: Money says."""
    potential_win = stake * 100 // abs(odds) if odds < 0 else stake * odds // 100
    actual_win = {"won": potential_win, "lost": -stake, "push": 0, "cancelled": 0}[status]
    return bet(conn, user_id, game_id, created_at=created_at, stake=stake, odds=odds, status=status,
               actual_win=actual_win, settled_at=settled_at or created_at + timedelta(hours=3))


def digest(conn, *tables: str) -> dict[str, str | None]:
    """An md5 of every row of each table, to show that a run changed nothing."""
    return {
        table: conn.execute(f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS d FROM {table} AS t").fetchone()["d"]
        for table in tables
    }


# docs/rules.md: Money, Boundaries: balance = weekly_deposit − Σ stake (bets placed since last_reset, every bet
# when last_reset is NULL) + Σ (stake + actual_win) (those of them no longer pending).
CONSERVATION_SQL = """
SELECT b.user_id, b.balance,
       b.weekly_deposit
       - coalesce(sum(x.stake), 0)
       + coalesce(sum(x.stake + x.actual_win) FILTER (WHERE x.status <> 'pending'), 0) AS expected
  FROM public.bankrolls AS b
  LEFT JOIN public.bets AS x
    ON x.user_id = b.user_id AND (b.last_reset IS NULL OR x.created_at >= b.last_reset)
 GROUP BY b.user_id, b.balance, b.weekly_deposit
"""


def conservation_violations(conn) -> list[dict]:
    """Bankrolls whose balance breaks conservation (docs/rules.md: Money) (empty when it holds)."""
    return [r for r in conn.execute(CONSERVATION_SQL).fetchall() if r["balance"] != r["expected"]]


# --- Added for the app trigger tests (append only). ---

def chat_member(conn, chat_id: uuid.UUID, user_id: uuid.UUID, *, role: str = "member",
                joined_at: datetime | None = None) -> uuid.UUID:
    values = {"chat_id": chat_id, "user_id": user_id, "role": role}
    if joined_at is not None:
        values["joined_at"] = joined_at
    return _insert(conn, "public.chat_members", values, key="user_id")


def referral(conn, referrer_id: uuid.UUID, referred_id: uuid.UUID) -> uuid.UUID:
    return _insert(conn, "public.referrals", {"referrer_id": referrer_id, "referred_id": referred_id, "code": "ABC123"})


def pick_action(conn, post_id: uuid.UUID, user_id: uuid.UUID, action_type: str = "tail") -> uuid.UUID:
    return _insert(conn, "public.pick_actions", {"post_id": post_id, "user_id": user_id, "action_type": action_type})


def story_view(conn, story_id: uuid.UUID, viewer_id: uuid.UUID) -> uuid.UUID:
    return _insert(conn, "public.story_views", {"story_id": story_id, "viewer_id": viewer_id})
