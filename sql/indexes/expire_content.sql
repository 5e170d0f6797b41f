{#
  Indexes expire_content needs beyond SnapBet's own, so that an hourly run costs what it
  expires, not what the tables hold. SnapBet already has (expires_at) WHERE deleted_at IS
  NULL on stories and messages, which serves their phases, and idx_posts_pick (post_type,
  created_at DESC) WHERE post_type = 'pick' AND deleted_at IS NULL, which serves late_picks,
  and idx_comments_created_at (created_at), by which late_comments finds the comments
  created since its window began.
  Built CONCURRENTLY by the deployer after its transaction (deployer/indexes.py).
#}
{% set app = app_schema | ident %}
-- Live content and outcome posts by expiry, the posts phase: not the live picks, whose
-- expires_at may pass long before their game's grace does.
CREATE INDEX CONCURRENTLY jobset_posts_live_content_idx
    ON {{ app }}.posts (expires_at, id) WHERE deleted_at IS NULL AND post_type IN ('content', 'outcome');

-- Games by start: the picks phase walks the games that started in its window.
CREATE INDEX CONCURRENTLY jobset_games_commence_idx
    ON {{ app }}.games (commence_time);

-- Live picks by bet: the picks of those games' bets (bets by game: SnapBet's idx_bets_game).
CREATE INDEX CONCURRENTLY jobset_posts_live_picks_idx
    ON {{ app }}.posts (bet_id) WHERE post_type = 'pick' AND deleted_at IS NULL;

-- Live picks without a bet, by expiry: the lost_picks phase.
CREATE INDEX CONCURRENTLY jobset_posts_lost_picks_idx
    ON {{ app }}.posts (expires_at, id) WHERE deleted_at IS NULL AND post_type = 'pick' AND bet_id IS NULL;

-- Soft-deleted rows by deletion time: the hard deletes, and the posts whose comments go.
CREATE INDEX CONCURRENTLY jobset_posts_soft_deleted_idx
    ON {{ app }}.posts (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY jobset_stories_soft_deleted_idx
    ON {{ app }}.stories (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY jobset_messages_soft_deleted_idx
    ON {{ app }}.messages (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY jobset_comments_soft_deleted_idx
    ON {{ app }}.comments (deleted_at, id) WHERE deleted_at IS NOT NULL;

-- Live comments by post: the comments of the posts deleted.
CREATE INDEX CONCURRENTLY jobset_comments_live_by_post_idx
    ON {{ app }}.comments (post_id, id) WHERE deleted_at IS NULL;
