"""The anonymous weekly pulse: mood (1-5), workload (1-5, too little to too much), eNPS
(0-10) and an optional comment, asked by DM; results per week, only from the team's
threshold of answers (at least 5), with the change since last time and alerts to leaders.

Anonymity by design. The question is "could anyone with the database, the logs or any
command tell what a given person answered?"; the design answers no, and a test checks
the database after a pulse:

- Who was asked and who answered (`pulse_respondent`: pulse, user, answered) is written
  for every member at once when the pulse opens, in member order; answering flips a
  boolean and records no time.
- An answer (`pulse_answer`) holds the values and the pulse id, and nothing else: no user
  id, no timestamp, no autoincrement id (whose order would be the answering order). Its
  primary key is the SHA-256 of an *answer key* and the member's user id; the key is 128
  random bits the outbox renderer draws when it builds the invitation DM and puts only in
  that DM's button. Without the key the hash cannot be recomputed for anyone; with the user
  id in it, a key passed on to someone else finds nothing. The key is not
  in the outbox row (renderers run at delivery; only `{respondent_id}` is stored), not in
  any log, not in the database. We chose this over an HMAC of (pulse, user) with a server
  secret: whoever holds the secret and the database could recompute every member's hash.
- Changing an answer: the member clicks the same button again; their key (from the button
  value, then the modal's private_metadata) finds the row by its hash and the modal opens
  with their answer filled in. Nobody without the key can find it. A reminder is a new DM
  with a new key; answering from either works once (the conditional update of `answered`
  decides), and a second key cannot add a second answer.
- When the pulse closes it is *sealed*: the answers are re-inserted in random order under
  new random keys (the members' keys stop working, nothing can be changed any more) and
  every respondent row is rewritten in one statement. Storage order (SQLite rowids,
  PostgreSQL ctid/xmin) then no longer follows the order people answered in.
- Results (averages, eNPS, distributions, comments in random order) exist only for closed
  pulses with at least `min_answers` answers: a leader cannot watch the figures move as
  one more person answers, and never learns who answered (only how many).
- No listener, job, log line or command shows a single answer: the only readers are
  `result` (aggregates), `seal` (copies them) and the change-answer modal, which opens
  only for the key holder.

What this cannot hide: Slack sees every submission; while a pulse is open, someone with
raw access to PostgreSQL's row versions or a statement log could line up an answer's
insert with a respondent's update (sealing removes that from the tables when the pulse
closes; dead row versions go at the next vacuum).

Stand-up moods (already asked in stand-ups, not anonymous there) join the same weekly
trend as an average, under the same threshold of distinct people.
"""

from supportbot.bot.pulse.cycle import (  # noqa: F401
    check,
    close,
    close_due,
    install_jobs,
    open_due,
    open_pulse,
    queue_reminders,
    start_now,
    trigger,
)
from supportbot.bot.pulse.results import (  # noqa: F401
    Answerable,
    Result,
    Week,
    alerts,
    answer,
    answerable,
    enps_of,
    latest,
    leader_trend,
    parse_weeks,
    previous_shown,
    result,
    shown_history,
    trend,
)
from supportbot.bot.pulse.settings import (  # noqa: F401
    ALERT_KIND,
    CLOSED_DM_KIND,
    COMMENT_MAX,
    DEFAULT_OPEN_HOURS,
    DEFAULT_WEEKS,
    ENPS_DROP_ALERT,
    FEATURE,
    INVITE_KIND,
    MAX_WEEKS,
    MIN_ANSWERS,
    QUESTION_KEYS,
    QUESTION_MAX,
    REMINDER_KIND,
    RESULTS_KIND,
    SCALES,
    THRESHOLD_SETTING,
    VERB_KEYS,
    check_key,
    leader_settings,
    min_answers,
    new_key,
    parse_days,
    question,
    set_paused,
    set_questions,
    set_schedule,
    set_threshold,
    settings_of,
    verb_of,
    week_of,
)
