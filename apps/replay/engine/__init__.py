"""The machinery that runs a replay job, below the entry points in apps.replay.services.

- `runner`: claim a job, build its work, run the engine, wrap up (the task `replay.run_job` calls
  `replay_job_run`); a finished job hands its endpoint to the recommender by task name.
- `engine`: the asyncio engine that sends requests, scores answers and stays under the spend cap,
  with `gates` (concurrency and rate per route, backoff), `budget` (reservations against the cap)
  and `results` (the rows stored in ClickHouse `replay_results`).
- `ledger`: the engine's writes to PostgreSQL on the calling thread, fenced by attempt; recovery
  and recounts after a restart.
- `summary`: the job's results summarised per candidate (CandidateResult).
- `routes`, `requests`, `costs`: how a request reaches a provider, what is sent, and what it may
  cost (planning uses these too).

Nothing here imports apps.replay.services.
"""
