{# Indexes the jobs rely on, beyond the primary keys and unique constraints. Each says which
   job reads it. Index names live in the table's schema. #}
-- expire_content: what has expired and is not yet deleted.
CREATE INDEX IF NOT EXISTS posts_expires_at_live_idx
    ON {{ app_schema | ident }}.posts (expires_at) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS stories_expires_at_live_idx
    ON {{ app_schema | ident }}.stories (expires_at) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS messages_expires_at_live_idx
    ON {{ app_schema | ident }}.messages (expires_at) WHERE deleted_at IS NULL;

-- expire_content: what was soft-deleted long enough ago to hard-delete; cleanup: reactions
-- on soft-deleted posts.
CREATE INDEX IF NOT EXISTS posts_deleted_at_idx
    ON {{ app_schema | ident }}.posts (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS stories_deleted_at_idx
    ON {{ app_schema | ident }}.stories (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_deleted_at_idx
    ON {{ app_schema | ident }}.messages (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS comments_deleted_at_idx
    ON {{ app_schema | ident }}.comments (deleted_at) WHERE deleted_at IS NOT NULL;

-- Children of a post (comments of soft-deleted posts; cascades when a post is hard-deleted).
CREATE INDEX IF NOT EXISTS comments_post_id_idx
    ON {{ app_schema | ident }}.comments (post_id);
CREATE INDEX IF NOT EXISTS reactions_post_id_idx
    ON {{ app_schema | ident }}.reactions (post_id);

-- Cascades when stories and chats are hard-deleted.
CREATE INDEX IF NOT EXISTS story_views_story_id_idx
    ON {{ app_schema | ident }}.story_views (story_id);
CREATE INDEX IF NOT EXISTS messages_chat_id_idx
    ON {{ app_schema | ident }}.messages (chat_id);

-- expire_content: a pick post's bet; ON DELETE SET NULL when a bet goes.
CREATE INDEX IF NOT EXISTS posts_bet_id_idx
    ON {{ app_schema | ident }}.posts (bet_id) WHERE bet_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS posts_settled_bet_id_idx
    ON {{ app_schema | ident }}.posts (settled_bet_id) WHERE settled_bet_id IS NOT NULL;

-- settle_games: the pending bets of a game.
CREATE INDEX IF NOT EXISTS bets_game_id_pending_idx
    ON {{ app_schema | ident }}.bets (game_id) WHERE status = 'pending';

-- reset_bankrolls, calculate_badges, rollup_stats: a user's bets by time.
CREATE INDEX IF NOT EXISTS bets_user_id_created_at_idx
    ON {{ app_schema | ident }}.bets (user_id, created_at);

-- reset_bankrolls: bankrolls not yet reset this week.
CREATE INDEX IF NOT EXISTS bankrolls_last_reset_idx
    ON {{ app_schema | ident }}.bankrolls (last_reset);

-- calculate_badges, rollup_stats: the tail or fade behind a bet.
CREATE INDEX IF NOT EXISTS pick_actions_resulting_bet_id_idx
    ON {{ app_schema | ident }}.pick_actions (resulting_bet_id);

-- cleanup: old notifications.
CREATE INDEX IF NOT EXISTS notifications_created_at_idx
    ON {{ app_schema | ident }}.notifications (created_at);

-- calculate_badges: a user's posts by time (most_active, ghost).
CREATE INDEX IF NOT EXISTS posts_user_id_created_at_idx
    ON {{ app_schema | ident }}.posts (user_id, created_at);

-- cleanup_media and the purge: one object per (bucket, name). Supabase's own index has this
-- name, so on Supabase this statement does nothing.
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname
    ON {{ storage_schema | ident }}.objects (bucket_id, name);
