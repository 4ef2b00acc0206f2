"""User text: Slack's formatted command text back to what the user typed, and escaping so
nothing a user typed can ping anyone."""

from __future__ import annotations

from supportbot.handlers.blocks import escape, truncate
from supportbot.handlers.common import slack_to_plain, split_leading_mentions


def test_slack_to_plain_undoes_slack_formatting() -> None:
    raw = "<@U0A1|ana> thanks &lt;!channel&gt; &amp; <!here> in <#C0B2|sales>: <https://x.io/t/1|x.io/t/1> 5 &gt; 3"
    assert slack_to_plain(raw) == "@ana thanks <!channel> & @here in #sales: x.io/t/1 (https://x.io/t/1) 5 > 3"


def test_escape_makes_broadcasts_inert() -> None:
    text = escape(slack_to_plain("&lt;!channel&gt; &lt;@U0A1&gt; <!everyone>"))
    assert "<!" not in text and "<@" not in text
    assert text == "&lt;!channel&gt; &lt;@U0A1&gt; @everyone"


def test_leading_mentions_and_truncate() -> None:
    ids, rest = split_leading_mentions("<@U0A1|a> <@U0B2|b> <@U0A1|a> great save")
    assert ids == ["U0A1", "U0B2"] and rest == "great save"
    cut = truncate(escape("&" * 40), 20)
    assert len(cut) <= 20 and cut.endswith("…") and not cut[:-1].endswith("&am")


def test_kudos_and_notes_store_what_was_typed_and_show_it_inert(rig, standin) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from supportbot.storage.coaching import CoachingNote
    from supportbot.storage.kudos import Kudos

    rig.make_team()
    # What Slack sends when someone types: @bo thanks <!channel> & 5 > 3
    rig.command("/kudos", "<@U0AGENT02|bo> thanks &lt;!channel&gt; &amp; 5 &gt; 3", user="U0AGENT01", channel="C0DIGEST1")
    rig.command("/coach", "<@U0AGENT01|al> check &lt;!here&gt; #improvement", user="U0LEAD01", channel="C0DIGEST1")
    rig.deliver()
    with rig.rt.transaction() as session:
        assert session.exec(select(Kudos)).one().message == "thanks <!channel> & 5 > 3"
        assert session.exec(select(CoachingNote)).one().text == "check <!here> #improvement"
    post = standin.posts("C0DIGEST1")[0].text_everywhere()
    assert "thanks &lt;!channel&gt; &amp; 5 &gt; 3" in post
    assert standin.pings() == [] and standin.rejected() == []
