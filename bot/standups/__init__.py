"""Stand-ups: leaders schedule them per team; at the scheduled local time of each member
(their own zone, else the team's) the member is prompted by DM; answers go in a thread
under the day's stand-up message; one reminder after an hour; at the cutoff the message
shows who answered and who did not.

Trust comes from rows, not timers: the day's run and each member's prompt are unique
rows (whoever inserts first sends), every send goes through the outbox with a dedupe key,
and a scan every minute re-derives what is due from the schedules, so a restart, a late
start inside the grace window or a second replica never repeats or skips a prompt.
"""

from supportbot.bot.standups.answers import (  # noqa: F401
    Answered,
    Summary,
    answer,
    answerable,
    is_team_holiday,
    summary,
)
from supportbot.bot.standups.firing import (  # noqa: F401
    JOB_PREFIX,
    catch_up,
    check,
    fire,
    install_jobs,
    prompt_members,
    queue_cutoffs,
    queue_reminders,
    reschedule,
    run_standup,
    start_now,
    sync_jobs,
)
from supportbot.bot.standups.schedules import (  # noqa: F401
    ANSWER_KIND,
    ANSWER_MAX,
    ANSWER_UPDATE_KIND,
    BLOCKER_KIND,
    DAYS,
    MAX_QUESTIONS,
    NO_BLOCKER,
    POST_KIND,
    PROMPT_KIND,
    QUESTION_MAX,
    REMINDER_KIND,
    SUMMARY_KIND,
    ZONES_KIND,
    apply_zone_page,
    channel_of,
    days_text,
    default_questions,
    is_blocker,
    leader_schedule,
    member_zones,
    members_without_zone,
    parse_days,
    queue_zone_sync,
    schedule_days,
    schedules_of_user,
    set_member_timezone,
    set_paused,
    set_questions,
    set_schedule,
    skip_day,
    trigger,
)
