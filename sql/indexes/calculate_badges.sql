{#
  Indexes calculate_badges needs beyond SnapBet's own (deployer/indexes.py builds them
  CONCURRENTLY): `ghost` asks, per user, for a post at or before a moment and for one after
  it, deleted or not; SnapBet's per-user post index leaves deleted posts out.
#}
-- Every post of a user by time, deleted or not.
CREATE INDEX CONCURRENTLY jobset_posts_user_created_idx
    ON {{ app_schema | ident }}.posts (user_id, created_at);
