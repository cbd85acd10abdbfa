"""Languages and time zones of the interface (liaison.web.i18n), without a node."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from jinja2 import Environment

from liaison.web import i18n

MOMENT = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, zh;q=0.5", "zh-CN"),
        ("zh;q=0.2, en;q=0.7", "en"),
        ("zh;q=0, en", "en"),
        ("fr", None),
        ("", None),
        (None, None),
        ("zh;q=bad, en", "en"),
    ],
)
def test_accept_language(header: str | None, language: str | None) -> None:
    assert i18n.accepted_language(header) == language


def test_python_strings_follow_the_current_language() -> None:
    with i18n.preferences("zh-CN"):
        assert i18n._("Log out") == "退出登录"
        assert i18n._("overdue by %(span)s", span="2小时") == "已逾期 2小时"
    with i18n.preferences("en"):
        assert i18n._("Log out") == "Log out"


def test_templates_translate_with_newstyle_gettext() -> None:
    env = Environment(autoescape=True)
    i18n.install(env)
    template = env.from_string('<p>{{ _("%(node)s node", node=name) }}</p>')
    with i18n.preferences("zh-CN"):
        assert template.render(name="<CN>") == "<p>&lt;CN&gt; 节点</p>"
    with i18n.preferences("en"):
        assert template.render(name="US") == "<p>US node</p>"


def test_local_datetime_is_in_the_users_zone_with_utc_on_hover() -> None:
    with i18n.preferences("zh-CN", "Asia/Shanghai"):
        html = i18n.local_datetime(MOMENT)
    assert 'datetime="2026-11-29T23:30:00Z"' in html
    assert 'title="2026-11-29 23:30:00 UTC"' in html
    assert "2026年11月30日 07:30:00" in html  # UTC+8, the next day
    with i18n.preferences("en", "America/New_York"):
        assert "Nov 29, 2026, 6:30:00\u202fPM" in i18n.local_datetime(MOMENT)


def test_naive_datetimes_are_taken_as_utc() -> None:
    with i18n.preferences("en", "UTC"):
        assert i18n.local_datetime(MOMENT.replace(tzinfo=None)) == i18n.local_datetime(MOMENT)


def test_dates_known_to_the_year_or_month_are_shown_as_such() -> None:
    with i18n.preferences("en"):
        assert i18n.local_date("1980") == '<time datetime="1980">1980</time>'
        assert i18n.local_date("2019-05") == '<time datetime="2019-05">May 2019</time>'
        assert i18n.date_text(date(1980, 1, 1), "year") == "1980"
        assert i18n.local_date(date(2019, 5, 1)) == '<time datetime="2019-05-01">May 1, 2019</time>'
    with i18n.preferences("zh-CN"):
        assert i18n.date_text(date(1980, 1, 1), "year") == "1980年"
        assert i18n.local_date("2019-05") == '<time datetime="2019-05">2019年5月</time>'


def test_deadline_says_local_time_and_time_left() -> None:
    now = MOMENT
    with i18n.preferences("en", "UTC"):
        soon = i18n.deadline(now + timedelta(minutes=18), now)
        late = i18n.deadline(now - timedelta(hours=2), now)
    assert "in 18 min" in soon and "11:48\u202fPM</time>" in soon
    assert "overdue by 2 hr" in late and 'class="overdue"' in late
    with i18n.preferences("zh-CN", "Asia/Shanghai"):
        soon_zh = i18n.deadline(now + timedelta(minutes=18), now)
    assert "还剩 18分钟" in soon_zh and "07:48</time>" in soon_zh


def test_unknown_time_zone_names_are_refused() -> None:
    assert i18n.zone_named("Asia/Shanghai") is not None
    assert i18n.zone_named("Mars/Olympus") is None
    assert i18n.zone_named("../etc/passwd") is None
