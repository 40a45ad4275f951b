"""Pull points with a frozen clock: due, overdue and missed on the right days, fulfilled
by a measurement inside the window only, and one reminder per pull point."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from labtrack.ageing import selectors
from labtrack.ageing.models import PullPoint, ReminderSent
from labtrack.ageing.tasks import send_due_reminders
from tests.labtrack.ageing.helpers import START, aged_sample, make_study, measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(members, project):
    members["chemist"].email = "chemist@lab.example"
    members["chemist"].save()
    return make_study(members["chemist"], project, [aged_sample(members["chemist"], project)])


def status_on(point: PullPoint, day_offset: float) -> str:
    with time_machine.travel(point.sample.age_started_at + timedelta(days=day_offset), tick=False):
        return selectors.statuses([PullPoint.objects.get(pk=point.pk)])[0].status


def one_month(study) -> PullPoint:
    return study.pull_points.get(label="1 month")


def test_pull_points_are_dated_from_the_samples_ageing_start(study):
    point = one_month(study)
    assert point.due_at == START + timedelta(days=30)
    assert (point.opens_at, point.closes_at) == (START + timedelta(days=27), START + timedelta(days=33))
    # missed once the next (3-month) window opens: 91 - 5 days
    assert point.missed_at == START + timedelta(days=86)


@pytest.mark.parametrize("day, expected", [(26.9, "upcoming"), (27.0, "due"), (33.0, "due"), (33.1, "overdue"),
                                           (85.9, "overdue"), (86.0, "missed")])
def test_status_changes_on_the_right_days(study, day, expected):
    assert status_on(one_month(study), day) == expected


def test_measurement_inside_the_window_fulfils_on_time(study):
    point = one_month(study)
    measure(point.sample, 31)
    assert status_on(point, 40) == "on time"


def test_measurement_before_the_window_does_not_fulfil(study):
    point = one_month(study)
    measure(point.sample, 20)
    assert status_on(point, 40) == "overdue"


def test_measurement_after_the_window_is_late_not_on_time(study):
    point = one_month(study)
    measure(point.sample, 45)
    assert status_on(point, 50) == "late"


def test_wrong_technique_does_not_fulfil_and_all_techniques_are_needed(study):
    point = study.pull_points.get(label="3 months")
    measure(point.sample, 90, "nmr")
    measure(point.sample, 92, "xrd")
    with time_machine.travel(START + timedelta(days=93), tick=False):
        status = selectors.statuses([point])[0]
    assert status.status == "due" and status.missing == ["pl"]
    measure(point.sample, 93, "pl")
    assert status_on(point, 94) == "on time"


def test_due_list_shows_open_points_only(study, members):
    measure(study.samples.get(), 0)  # t0 done
    with time_machine.travel(START + timedelta(days=35), tick=False):
        due = selectors.due_pull_points(user=members["viewer"])
    assert [(d.point.label, d.status) for d in due] == [("1 month", "overdue")]


def test_due_list_hides_other_projects(study, other_project, make_user):
    from labtrack.samples.models import Membership

    outsider = make_user("outsider")
    Membership.objects.create(project=other_project, user=outsider, role="manager")
    with time_machine.travel(START + timedelta(days=28), tick=False):
        assert selectors.due_pull_points(user=outsider) == []


def test_reminder_is_sent_once_even_after_a_beat_restart(study):
    with time_machine.travel(START + timedelta(days=1), tick=False):
        assert send_due_reminders() == 1  # t0 due
        assert send_due_reminders() == 0  # the next beat, or a restarted beat
    with time_machine.travel(START + timedelta(days=2.5), tick=False):
        assert send_due_reminders() == 0  # t0 now overdue: still no second e-mail
    with time_machine.travel(START + timedelta(days=28), tick=False):
        assert send_due_reminders() == 1  # the 1-month window opened
        assert send_due_reminders() == 0
    assert [m.subject for m in mail.outbox] == ["[LabTrack] NC12.8-P-AIR: t0 pull point due",
                                                "[LabTrack] NC12.8-P-AIR: 1 month pull point due"]
    assert mail.outbox[0].to == ["chemist@lab.example"]
    assert ReminderSent.objects.count() == 2


def test_missed_point_gets_no_reminder(study):
    with time_machine.travel(START + timedelta(days=27.5), tick=False):
        assert send_due_reminders() == 1  # only the 1-month point: t0 is missed by now
    assert "1 month" in mail.outbox[0].subject


def test_fulfilled_point_gets_no_reminder(study):
    measure(study.samples.get(), 0)
    measure(study.samples.get(), 28)
    with time_machine.travel(START + timedelta(days=29), tick=False):
        assert send_due_reminders() == 0
    assert mail.outbox == []


def test_failed_send_is_retried_on_the_next_beat(study, monkeypatch):
    from labtrack.ageing import services

    def broken(**kwargs):
        raise ConnectionRefusedError("SMTP down")

    with time_machine.travel(START + timedelta(days=1), tick=False):
        monkeypatch.setattr(services, "send_mail", broken)
        assert send_due_reminders() == 0
        assert ReminderSent.objects.count() == 0
        monkeypatch.undo()
        assert send_due_reminders() == 1
    assert len(mail.outbox) == 1


def test_study_needs_samples_of_its_project(members, project, other_project):
    from tests.labtrack.factories import make_batch, make_sample

    with pytest.raises(ValidationError, match="at least one sample"):
        make_study(members["chemist"], project, [])
    foreign = make_sample(members["manager"], make_batch(members["manager"], project, code="X1"), code="X1-P")
    type(foreign.batch).objects.filter(pk=foreign.batch_id).update(project=other_project)
    foreign.refresh_from_db()
    with pytest.raises(ValidationError, match="X1-P belong to another project"):
        make_study(members["chemist"], project, [foreign])


def test_viewer_cannot_create_a_study(members, project):
    sample = aged_sample(members["chemist"], project)
    with pytest.raises(PermissionDenied):
        make_study(members["viewer"], project, [sample])


def test_bad_pull_points_are_refused_readably(members, project):
    sample = aged_sample(members["chemist"], project)
    with pytest.raises(ValidationError, match="cannot be negative"):
        make_study(members["chemist"], project, [sample], pull_points=[{"offset_days": -3}])
    with pytest.raises(ValidationError, match="known techniques"):
        make_study(members["chemist"], project, [sample], pull_points=[{"offset_days": 3, "techniques": ["ftir"]}])


def test_templates_give_the_issues_default_thresholds(members, project):
    from labtrack.ageing.models import StudyTemplate
    from labtrack.ageing.services import study_create, study_templates_ensure

    study_templates_ensure()
    template = StudyTemplate.objects.get(name="Ambient air, 6 months")
    study = study_create(user=members["chemist"], project=project, name="T", template=template,
                         samples=[aged_sample(members["chemist"], project)])
    texts = {q.key: q.threshold_text for q in study.quantities.all()}
    assert texts == {"cs133_bulk_fraction": "+5 percentage points", "cs4pbbr6_fraction": "appears",
                     "pl_peak": "±3 nm", "pl_fwhm": "+20 %", "xrd_pnma_markers": "appears", "scherrer_size": "±10 %"}
    assert study.atmosphere == "air" and study.relative_humidity_percent == 50.0
    assert list(study.pull_points.values_list("label", flat=True)) == ["t0", "1 week", "1 month", "3 months", "6 months"]
