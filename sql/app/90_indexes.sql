{# SnapBet's own secondary indexes on the tables of docs/rules.md: The app's data, under SnapBet's names
   (supabase/migrations 001 to 036), so that every row a job writes costs the index upkeep
   it costs in SnapBet. Left out: indexes on columns this schema omits (display_name,
   mock_personality_id, archived, report_count, effect_id, media_type, story_id, bet_id of
   messages, is_archived, profile_embedding), and the three whose predicate calls now()
   (idx_posts_feed, idx_stories_active, idx_bets_user_created_week), which PostgreSQL
   refuses. The indexes the jobs need beyond these are the job set's own, built by the
   deployer (sql/indexes/). #}
{% set app = app_schema | ident %}
-- Indexes of earlier versions of this schema that SnapBet does not have.
DROP INDEX IF EXISTS {{ app }}.posts_expires_at_live_idx, {{ app }}.stories_expires_at_live_idx,
    {{ app }}.messages_expires_at_live_idx, {{ app }}.posts_deleted_at_idx, {{ app }}.stories_deleted_at_idx,
    {{ app }}.messages_deleted_at_idx, {{ app }}.comments_deleted_at_idx, {{ app }}.comments_post_id_idx,
    {{ app }}.reactions_post_id_idx, {{ app }}.story_views_story_id_idx, {{ app }}.messages_chat_id_idx,
    {{ app }}.posts_bet_id_idx, {{ app }}.posts_settled_bet_id_idx, {{ app }}.bets_game_id_pending_idx,
    {{ app }}.bets_user_id_created_at_idx, {{ app }}.bankrolls_last_reset_idx,
    {{ app }}.pick_actions_resulting_bet_id_idx, {{ app }}.notifications_created_at_idx,
    {{ app }}.posts_user_id_created_at_idx;

-- SnapBet indexes.
CREATE INDEX IF NOT EXISTS idx_users_username ON {{ app }}.users (username) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_users_email ON {{ app }}.users (email) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_users_created ON {{ app }}.users (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_users_is_mock ON {{ app }}.users (is_mock);
CREATE INDEX IF NOT EXISTS idx_users_username_lower ON {{ app }}.users (lower(username));
CREATE INDEX IF NOT EXISTS idx_users_created_at ON {{ app }}.users (created_at);
CREATE INDEX IF NOT EXISTS idx_users_referral_count ON {{ app }}.users (referral_count) WHERE referral_count > 0;
CREATE INDEX IF NOT EXISTS idx_referrals_referrer ON {{ app }}.referrals (referrer_id);

CREATE INDEX IF NOT EXISTS idx_bankrolls_balance ON {{ app }}.bankrolls (balance);
CREATE INDEX IF NOT EXISTS idx_bankrolls_updated ON {{ app }}.bankrolls (updated_at DESC);
CREATE INDEX IF NOT EXISTS idx_bankrolls_user_id ON {{ app }}.bankrolls (user_id);

CREATE INDEX IF NOT EXISTS idx_games_sport_time ON {{ app }}.games (sport, commence_time);
CREATE INDEX IF NOT EXISTS idx_games_status ON {{ app }}.games (status);
CREATE INDEX IF NOT EXISTS idx_games_teams ON {{ app }}.games (home_team, away_team);

CREATE INDEX IF NOT EXISTS idx_bets_user_status ON {{ app }}.bets (user_id, status);
CREATE INDEX IF NOT EXISTS idx_bets_game ON {{ app }}.bets (game_id);
CREATE INDEX IF NOT EXISTS idx_bets_created ON {{ app }}.bets (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_bets_pending ON {{ app }}.bets (status) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS idx_bets_expires ON {{ app }}.bets (expires_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS idx_bets_weekly_stats ON {{ app }}.bets (user_id, created_at, status)
    WHERE status IN ('won', 'lost');
CREATE INDEX IF NOT EXISTS idx_bets_settled_at_status ON {{ app }}.bets (settled_at, status) WHERE settled_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_bets_settled_at ON {{ app }}.bets (settled_at)
    WHERE settled_at IS NOT NULL AND status IN ('won', 'lost');

CREATE INDEX IF NOT EXISTS idx_posts_user_created ON {{ app }}.posts (user_id, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_posts_expires ON {{ app }}.posts (expires_at) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_posts_bet ON {{ app }}.posts (bet_id) WHERE bet_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_posts_type ON {{ app }}.posts (post_type);
CREATE INDEX IF NOT EXISTS idx_posts_pick ON {{ app }}.posts (post_type, created_at DESC)
    WHERE post_type = 'pick' AND deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_posts_weekly_picks ON {{ app }}.posts (user_id, created_at) WHERE post_type = 'pick';
CREATE INDEX IF NOT EXISTS idx_posts_post_type ON {{ app }}.posts (post_type);
CREATE INDEX IF NOT EXISTS idx_posts_settled_bet_id ON {{ app }}.posts (settled_bet_id);
CREATE INDEX IF NOT EXISTS idx_posts_created_at_type_tails ON {{ app }}.posts (created_at, post_type, tail_count)
    WHERE post_type = 'pick' AND tail_count > 0;

CREATE INDEX IF NOT EXISTS idx_comments_post ON {{ app }}.comments (post_id, created_at);
CREATE INDEX IF NOT EXISTS idx_comments_user ON {{ app }}.comments (user_id);
CREATE INDEX IF NOT EXISTS idx_comments_created ON {{ app }}.comments (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_comments_post_id ON {{ app }}.comments (post_id);
CREATE INDEX IF NOT EXISTS idx_comments_user_id ON {{ app }}.comments (user_id);
CREATE INDEX IF NOT EXISTS idx_comments_created_at ON {{ app }}.comments (created_at);
CREATE INDEX IF NOT EXISTS idx_comments_deleted_at ON {{ app }}.comments (deleted_at) WHERE deleted_at IS NULL;

CREATE INDEX IF NOT EXISTS idx_reactions_post ON {{ app }}.reactions (post_id);
CREATE INDEX IF NOT EXISTS idx_reactions_user ON {{ app }}.reactions (user_id);
CREATE INDEX IF NOT EXISTS idx_reactions_post_id ON {{ app }}.reactions (post_id);
CREATE INDEX IF NOT EXISTS idx_reactions_user_id ON {{ app }}.reactions (user_id);
CREATE INDEX IF NOT EXISTS idx_reactions_post_user ON {{ app }}.reactions (post_id, user_id);

CREATE INDEX IF NOT EXISTS idx_pick_actions_post ON {{ app }}.pick_actions (post_id);
CREATE INDEX IF NOT EXISTS idx_pick_actions_user ON {{ app }}.pick_actions (user_id);
CREATE INDEX IF NOT EXISTS idx_pick_actions_type ON {{ app }}.pick_actions (action_type);
CREATE INDEX IF NOT EXISTS idx_pick_actions_bet ON {{ app }}.pick_actions (resulting_bet_id);

CREATE INDEX IF NOT EXISTS idx_stories_user ON {{ app }}.stories (user_id) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_stories_expires ON {{ app }}.stories (expires_at) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_story_views_story ON {{ app }}.story_views (story_id);
CREATE INDEX IF NOT EXISTS idx_story_views_viewer ON {{ app }}.story_views (viewer_id);

CREATE INDEX IF NOT EXISTS idx_chats_type ON {{ app }}.chats (chat_type);
CREATE INDEX IF NOT EXISTS idx_chats_last_message ON {{ app }}.chats (last_message_at DESC NULLS LAST);
CREATE INDEX IF NOT EXISTS idx_chat_members_user ON {{ app }}.chat_members (user_id);
CREATE INDEX IF NOT EXISTS idx_chat_members_chat ON {{ app }}.chat_members (chat_id);
CREATE INDEX IF NOT EXISTS idx_chat_members_chat_id ON {{ app }}.chat_members (chat_id);
CREATE INDEX IF NOT EXISTS idx_messages_chat_created ON {{ app }}.messages (chat_id, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_messages_sender ON {{ app }}.messages (sender_id);
CREATE INDEX IF NOT EXISTS idx_messages_expires ON {{ app }}.messages (expires_at) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_messages_type ON {{ app }}.messages (message_type);
CREATE INDEX IF NOT EXISTS idx_messages_chat_id_created_at ON {{ app }}.messages (chat_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_message_reads_user ON {{ app }}.message_reads (user_id);

CREATE INDEX IF NOT EXISTS idx_notifications_user_unread ON {{ app }}.notifications (user_id, created_at DESC)
    WHERE read = false;
CREATE INDEX IF NOT EXISTS idx_notifications_user_all ON {{ app }}.notifications (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_user_badges_active ON {{ app }}.user_badges (user_id) WHERE lost_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_user_badges_weekly ON {{ app }}.user_badges (user_id, week_start_date)
    WHERE lost_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_badge_history_user ON {{ app }}.badge_history (user_id, created_at DESC);

-- Supabase Storage's own index (on Supabase this statement does nothing): one object per
-- (bucket, name); cleanup_media and the purge look objects up by it.
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname
    ON {{ storage_schema | ident }}.objects (bucket_id, name);
