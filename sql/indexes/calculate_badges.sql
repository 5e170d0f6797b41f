{#
  Indexes calculate_badges needs beyond SnapBet's own (deployer/indexes.py builds them
  CONCURRENTLY): `ghost` asks, per user, for a post at or before a moment and for one after
  it, deleted or not; SnapBet's per-user post index leaves deleted posts out. A run after a
  complete one looks at the posts created in its windows (every post by time: SnapBet's
  own are of picks or of live posts only) and at the holders of two badges.
#}
-- Every post of a user by time, deleted or not.
CREATE INDEX CONCURRENTLY jobset_posts_user_created_idx
    ON {{ app_schema | ident }}.posts (user_id, created_at);

-- Every post by time, with its author: the posts created in a run's windows.
CREATE INDEX CONCURRENTLY jobset_posts_created_idx
    ON {{ app_schema | ident }}.posts (created_at, user_id);

-- Active badges by badge: the holders of profit_king and of ghost.
CREATE INDEX CONCURRENTLY jobset_user_badges_active_badge_idx
    ON {{ app_schema | ident }}.user_badges (badge_id, user_id) WHERE lost_at IS NULL;
