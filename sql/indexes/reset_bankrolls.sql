{#
  Indexes reset_bankrolls needs beyond SnapBet's own (deployer/indexes.py builds them
  CONCURRENTLY): the hourly runs between two Mondays find no bankroll due without reading
  every bankroll.
#}
-- Bankrolls by last reset: those not reset this week (or never).
CREATE INDEX CONCURRENTLY jobset_bankrolls_last_reset_idx
    ON {{ app_schema | ident }}.bankrolls (last_reset);
