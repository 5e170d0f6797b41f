{# Posts and what hangs off them: comments, reactions, tails and fades. Deleting a post
   cascades to all three. #}
-- SnapBet posts: `content`, `pick` (shares bet_id) or `outcome` (shares settled_bet_id).
-- Every post expires; expired posts are soft-deleted, then hard-deleted later.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.posts (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid        NOT NULL
                                REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    bet_id          uuid        REFERENCES {{ app_schema | ident }}.bets (id) ON DELETE SET NULL,
    settled_bet_id  uuid        REFERENCES {{ app_schema | ident }}.bets (id),
    post_type       text        NOT NULL DEFAULT 'content',
    media_url       text        NOT NULL,
    thumbnail_url   text,
    caption         text,
    tail_count      integer     NOT NULL DEFAULT 0,
    fade_count      integer     NOT NULL DEFAULT 0,
    reaction_count  integer     NOT NULL DEFAULT 0,
    comment_count   integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    deleted_at      timestamptz,
    CONSTRAINT posts_post_type_check CHECK (post_type IN ('content', 'pick', 'outcome')),
    CONSTRAINT posts_pick_bet_check CHECK (post_type <> 'pick' OR bet_id IS NOT NULL),
    CONSTRAINT posts_outcome_bet_check CHECK (post_type <> 'outcome' OR settled_bet_id IS NOT NULL),
    CONSTRAINT posts_expiration_check CHECK (expires_at > created_at)
);

-- Comments on posts; soft-deleted with their post.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.comments (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.posts (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    content     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

-- Emoji reactions on posts.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.reactions (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.posts (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    emoji       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Tails (copy the pick) and fades (bet against it); resulting_bet_id is the bet placed.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.pick_actions (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id           uuid        NOT NULL
                                  REFERENCES {{ app_schema | ident }}.posts (id) ON DELETE CASCADE,
    user_id           uuid        NOT NULL
                                  REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    action_type       {{ app_schema | ident }}.pick_action NOT NULL,
    resulting_bet_id  uuid        REFERENCES {{ app_schema | ident }}.bets (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pick_actions_post_id_user_id_key UNIQUE (post_id, user_id)
);
