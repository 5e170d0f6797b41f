{#
  Indexes settle_games needs beyond SnapBet's own (deployer/indexes.py builds them
  CONCURRENTLY): the games that still have pending bets are found from the few pending
  bets, in game order, without reading the settled history.
#}
-- Pending bets by game.
CREATE INDEX CONCURRENTLY jobset_bets_pending_game_idx
    ON {{ app_schema | ident }}.bets (game_id) WHERE status = 'pending';
