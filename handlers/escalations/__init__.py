"""`/escalate`, its modals, the Acknowledge / Resolve / Reassign buttons, and the outbox
renderers that turn stored escalations into Slack messages.

- command.py: the slash command (raise from text, list, show one, open the modal)
- modals.py: the create / resolve / reassign modals and their submissions
- buttons.py: the buttons on the channel message and in DMs, and Withdraw
- render.py: Block Kit, pure functions of stored rows
- deliveries.py: the outbox renderers
"""

from __future__ import annotations

from slack_bolt import App

from supportbot.bot import escalations as esc_policy
from supportbot.bot.runtime import Runtime
from supportbot.handlers import common
from supportbot.handlers.escalations import deliveries
from supportbot.handlers.escalations.buttons import (
    handle_ack_button,
    handle_reassign_button,
    handle_resolve_button,
    handle_withdraw_button,
)
from supportbot.handlers.escalations.command import handle_escalate_command
from supportbot.handlers.escalations.ids import Id
from supportbot.handlers.escalations.modals import (
    handle_create_submit,
    handle_reassign_submit,
    handle_resolve_submit,
)

__all__ = ["Id", "register"]


def register(app: App, rt: Runtime) -> None:
    app.command(Id.COMMAND)(common.command(rt, handle_escalate_command))
    app.view(Id.CREATE_MODAL)(common.view(rt, handle_create_submit))
    app.action(Id.ACK)(common.action(rt, handle_ack_button))
    app.action(Id.RESOLVE)(common.action(rt, handle_resolve_button))
    app.action(Id.REASSIGN)(common.action(rt, handle_reassign_button))
    app.action(Id.WITHDRAW)(common.action(rt, handle_withdraw_button))
    app.view(Id.RESOLVE_MODAL)(common.view(rt, handle_resolve_submit))
    app.view(Id.REASSIGN_MODAL)(common.view(rt, handle_reassign_submit))
    kinds = rt.outbox.kinds
    kinds.register(esc_policy.KIND_POST, deliveries.render_post, deliveries.after_post, target=deliveries.post_target)
    kinds.register(esc_policy.KIND_UPDATE, deliveries.render_update)
    kinds.register(esc_policy.KIND_THREAD, deliveries.render_thread)
    kinds.register(esc_policy.KIND_DM, deliveries.render_dm, target=deliveries.dm_target)
    kinds.register(esc_policy.KIND_DM_UPDATE, deliveries.render_dm_update)
