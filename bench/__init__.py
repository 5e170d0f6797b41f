"""The job set's benchmark suite: `python -m bench [--scale smoke|medium|full] [--runs 3]
[--only SCENARIO ...] [--out FILE]`. See bench/README.md.

Modules: cluster (the bench's own durable throwaway cluster, clones of templates), data
(the seeded templates), baselines (the bare statements and the row-at-a-time client; bets
holds settle_games' and rollup_stats', badges calculate_badges'),
the scenarios (compare, online, cost, client), report (Markdown) and suite (the run).
"""
