{# Games (ids come from the odds API, hence text) and the bets placed on them.
   SnapBet's columns, defaults, NOT NULLs and constraints (supabase/migrations 001); a `--`
   comment marks each deliberate difference. #}
-- SnapBet games. Scores are known exactly when the game is completed. SnapBet also keeps
-- odds_data, created_at and last_updated; no job reads them. games_scores_check is
-- SnapBet's rule written as equalities: the same rows pass (a NULL status passes both).
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.games (
    id             text        PRIMARY KEY,
    sport          text        NOT NULL,
    sport_title    text        NOT NULL,
    home_team      text        NOT NULL,
    away_team      text        NOT NULL,
    commence_time  timestamptz NOT NULL,
    home_score     integer,
    away_score     integer,
    status         {{ app_schema | ident }}.game_status DEFAULT 'scheduled',
    CONSTRAINT games_scores_check CHECK (
        (status = 'completed') = (home_score IS NOT NULL)
        AND (status = 'completed') = (away_score IS NOT NULL)
    )
);
ALTER TABLE {{ app_schema | ident }}.games
    ALTER COLUMN status DROP NOT NULL;

-- SnapBet bets. bet_details: {team, line} for spread, {total_type: over|under, line} for
-- total, {team} for moneyline. odds are American; potential_win is the profit only.
-- Deliberate difference: bets_settled_check is the app's "pending <=> settled_at and
-- actual_win are NULL". SnapBet's own check only asks a bet that is not pending for a
-- settled_at, so there a settled bet may keep actual_win NULL (its reset_bankroll() leaves
-- cancelled bets so); every job here writes actual_win when it settles a bet.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.bets (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid        NOT NULL
                                  REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    game_id           text        NOT NULL REFERENCES {{ app_schema | ident }}.games (id),
    bet_type          {{ app_schema | ident }}.bet_type NOT NULL,
    bet_details       jsonb       NOT NULL,
    stake             integer     NOT NULL CHECK (stake >= 500),
    odds              integer     NOT NULL,
    potential_win     integer     NOT NULL,
    actual_win        integer,
    status            {{ app_schema | ident }}.bet_status NOT NULL DEFAULT 'pending',
    created_at        timestamptz DEFAULT now(),
    settled_at        timestamptz,
    expires_at        timestamptz,
    is_tail           boolean     DEFAULT false,
    is_fade           boolean     DEFAULT false,
    original_pick_id  uuid,
    CONSTRAINT bets_settled_check CHECK (
        (status = 'pending') = (settled_at IS NULL)
        AND (status = 'pending') = (actual_win IS NULL)
    )
);
ALTER TABLE {{ app_schema | ident }}.bets
    ALTER COLUMN created_at DROP NOT NULL,
    ALTER COLUMN is_tail DROP NOT NULL,
    ALTER COLUMN is_fade DROP NOT NULL;
