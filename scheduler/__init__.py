"""Reminders, digests and escalation before each payment cutoff (docs/reminders.md).

timetable (which jobs a policy's calendar asks for) -> jobs (APScheduler) -> planner (outbox rows, with
digests for officials) -> sender (WeChat, within its rules); messages renders; wiring starts it all;
commands is the CLI.
"""
