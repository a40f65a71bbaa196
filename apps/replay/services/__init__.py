"""Replay entry points: plan, create, start, cancel and resume jobs (jobs, planning), schedules, and
provider connections. The machinery that runs a job is in apps.replay.engine; reads are in
apps.replay.selectors and apps.replay.sampling."""
