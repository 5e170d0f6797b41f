"""The sizes of each scale. `full` is the issue's: 1M posts and 1M bankrolls against the bare
statements, the demo seed at 100k users against the row-at-a-time client, 10k expired posts
among 1M and 10M live ones; 1M pending bets to settle, 100k users to roll up and 100k
users to give badges, 100k users' notifications, runs, reactions and chats to clean up (against
both)."""

from __future__ import annotations

import math

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    users: int              # reset_bankrolls: users, each with a bankroll due and a bet
    posts: int              # expire_content: content posts, every one expired
    pending_bets: int       # settle_games: pending bets, all of completed or cancelled games
    stats_users: int        # rollup_stats: users with settled bets, user_stats empty
    badge_users: int        # calculate_badges: users with this week's bets, picks and badges
    cleanup_users: int      # cleanup: users with old notifications, reactions on deleted posts; runs, chats
    demo_users: int         # the demo seed (deployer seed) for the row-at-a-time client
    cost_sizes: tuple[int, int]  # cost_follows_work: posts in the small and the large template
    cost_expired: int       # of which this many have expired
    client_budget_s: float  # the row client stops here and its time is extrapolated linearly
                            # (smoke: none, so its verdicts never depend on the machine's speed)
    online_rate: int        # pgbench: the app's updates per second, all clients together
    online_clients: int
    online_segment_s: int   # pgbench runs in segments of -T this long until the job ends


SCALES = {
    "smoke": Scale("smoke", users=2_000, posts=5_000, pending_bets=5_000, stats_users=2_000, badge_users=2_000,
                   cleanup_users=2_000, demo_users=200, cost_sizes=(10_000, 100_000), cost_expired=1_000,
                   client_budget_s=math.inf, online_rate=100, online_clients=4, online_segment_s=2),
    "medium": Scale("medium", users=100_000, posts=100_000, pending_bets=100_000, stats_users=20_000,
                    badge_users=20_000, cleanup_users=20_000, demo_users=10_000, cost_sizes=(100_000, 1_000_000),
                    cost_expired=10_000, client_budget_s=30, online_rate=200, online_clients=4, online_segment_s=5),
    "full": Scale("full", users=1_000_000, posts=1_000_000, pending_bets=1_000_000, stats_users=100_000,
                  badge_users=100_000, cleanup_users=100_000, demo_users=100_000, cost_sizes=(1_000_000, 10_000_000),
                  cost_expired=10_000, client_budget_s=15, online_rate=200, online_clients=4, online_segment_s=5),
}
# client_rss compares a scale's data with the smallest there is.
TINY = Scale("tiny", users=100, posts=100, pending_bets=100, stats_users=100, badge_users=100, cleanup_users=100,
             demo_users=0, cost_sizes=(0, 0), cost_expired=0, client_budget_s=0, online_rate=0, online_clients=0,
             online_segment_s=0)
