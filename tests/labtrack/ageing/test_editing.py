"""Editing a study after it started: title, description, conditions and schedule, and
moving a pull point not measured yet; each change is in the audit history with its reason."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from labtrack.ageing import services
from labtrack.ageing.models import PullPoint, ReminderSent, Study
from tests.labtrack.ageing.helpers import SCHEDULE, aged_sample, make_study, measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def study(members, project):
    return make_study(members["chemist"], project, [aged_sample(members["chemist"], project)])


def point(study, label: str) -> PullPoint:
    return study.pull_points.get(label=label)


def test_title_description_and_conditions_change_and_the_history_keeps_the_reason(study, members):
    measure(study.samples.get(), 0.5)                    # t0 measured: a reason is now required
    with pytest.raises(ValidationError) as exc:
        services.study_update(user=members["chemist"], study=study, name="Air study, shelf B")
    assert "say why" in str(exc.value)
    services.study_update(user=members["chemist"], study=study, reason="moved to shelf B (more light)",
                          name="Air study, shelf B", notes="Open vial on shelf B.", light="ambient",
                          temperature_c=23.5)
    study = Study.objects.get(pk=study.pk)
    assert (study.name, study.notes, study.light, study.temperature_c) == (
        "Air study, shelf B", "Open vial on shelf B.", "ambient", 23.5)
    latest = study.history.first()
    assert latest.history_change_reason == "moved to shelf B (more light)" and latest.name == "Air study, shelf B"


def test_a_viewer_cannot_edit_a_study_or_move_a_pull_point(study, members, login):
    with pytest.raises(PermissionDenied):
        services.study_update(user=members["viewer"], study=study, name="Mine now")
    with pytest.raises(PermissionDenied):
        services.pull_point_redate(user=members["viewer"], point=point(study, "1 month"),
                                   due_at=point(study, "1 month").due_at + timedelta(days=2), reason="holiday")
    client = login(members["viewer"])
    assert client.get(reverse("study_edit", args=[study.pk])).status_code == 403
    assert client.post(reverse("study_edit", args=[study.pk]), {"name": "Mine now"}).status_code == 403
    assert "Edit study" not in client.get(reverse("study_detail", args=[study.pk])).content.decode()
    assert Study.objects.get(pk=study.pk).name == "Air study"


def test_an_unmeasured_pull_point_moves_with_its_window_and_its_reminder_is_renewed(study, members):
    p = point(study, "1 month")
    ReminderSent.objects.create(pull_point=p)
    new_due = p.due_at + timedelta(days=4)
    moved = services.pull_point_redate(user=members["chemist"], point=p, due_at=new_due, reason="NMR down that week")
    assert moved.due_at == new_due
    assert (moved.opens_at - p.opens_at, moved.closes_at - p.closes_at, moved.missed_at - p.missed_at) == (
        timedelta(days=4),) * 3
    assert not ReminderSent.objects.filter(pull_point=p).exists()
    assert moved.history.first().history_change_reason == "NMR down that week"
    assert moved.history.last().due_at == p.due_at        # the old date is kept


def test_a_measured_pull_point_cannot_be_re_dated(study, members):
    p = point(study, "1 month")
    measure(study.samples.get(), 30.5)
    with pytest.raises(ValidationError) as exc:
        services.pull_point_redate(user=members["chemist"], point=p, due_at=p.due_at + timedelta(days=5),
                                   reason="late anyway")
    assert "has been measured (Solid-state NMR" in str(exc.value) and "keeps its date" in str(exc.value)
    assert PullPoint.objects.get(pk=p.pk).due_at == p.due_at


def test_re_dating_needs_a_reason_and_a_date_after_the_ageing_start(study, members):
    p = point(study, "1 month")
    with pytest.raises(ValidationError, match="Say why"):
        services.pull_point_redate(user=members["chemist"], point=p, due_at=p.due_at, reason=" ")
    with pytest.raises(ValidationError, match="before NC12.8-P-AIR's ageing start"):
        services.pull_point_redate(user=members["chemist"], point=p, due_at=p.due_at - timedelta(days=60),
                                   reason="typo")


def test_schedule_edit_adds_and_removes_unmeasured_points_and_keeps_measured_ones(study, members):
    sample = study.samples.get()
    measure(sample, 0.5)                                   # t0 measured
    t0_before = point(study, "t0")
    new = [dict(p) for p in SCHEDULE if p["label"] != "6 months"] + [
        {"label": "9 months", "offset_days": 274, "tolerance_days": 7, "techniques": ["nmr", "xrd"]}]
    new[1]["tolerance_days"] = 4                           # the 1-month window widens
    with pytest.raises(ValidationError, match="say why the schedule"):
        services.study_schedule_update(user=members["chemist"], study=study, pull_points=new)
    changed = services.study_schedule_update(user=members["chemist"], study=study, pull_points=new,
                                             reason="6-month point replaced by 9 months")
    # 1 month widened; 3 months counts as missed when the 9-month window opens, not the 6-month one;
    # 6 months gone; 9 months new. The measured t0 is not touched.
    assert changed == 4
    labels = list(study.pull_points.order_by("offset_days").values_list("label", flat=True))
    assert labels == ["t0", "1 month", "3 months", "9 months"]
    one_month = point(study, "1 month")
    assert one_month.closes_at - one_month.due_at == timedelta(days=4)
    assert point(study, "t0").due_at == t0_before.due_at
    without_t0 = [p for p in new if p["label"] != "t0"]
    with pytest.raises(ValidationError, match="Measured pull points stay in the schedule: NC12.8-P-AIR t0"):
        services.study_schedule_update(user=members["chemist"], study=study, pull_points=without_t0, reason="x")


def test_an_edit_elsewhere_keeps_a_pull_point_moved_by_hand(study, members):
    p = point(study, "3 months")
    services.pull_point_redate(user=members["chemist"], point=p, due_at=p.due_at + timedelta(days=3), reason="MAS rotor")
    services.study_edit(user=members["chemist"], study=study, pull_points=SCHEDULE, name="Air study (renamed)")
    assert point(study, "3 months").due_at == p.due_at + timedelta(days=3)


def test_the_edit_page_saves_and_shows_clear_errors(study, members, login):
    client = login(members["chemist"])
    url = reverse("study_edit", args=[study.pk])
    page = client.get(url).content.decode()
    assert "3 months | 91 | 5 | nmr, pl" in page and "Move a pull point not measured yet" in page
    form = {"name": "Air study", "notes": "", "atmosphere": "air", "light": "dark", "temperature_c": "",
            "relative_humidity_percent": "", "reason": "",
            "pull_points": "t0 | 0 | 2 | nmr\n1 month | thirty | 3 | nmr"}
    bad = client.post(url, form)
    assert bad.status_code == 400 and "Line 2: the offset and tolerance are numbers of days" in bad.content.decode()
    form["pull_points"] = "t0 | 0 | 2 | nmr\n1 month | 30 | 3 | ftir"
    assert "unknown technique ftir" in client.post(url, form).content.decode()
    form.update(pull_points="t0 | 0 | 2 | nmr\n1 month | 30 | 3 | nmr\n2 months | 61 | 3 | nmr, pl",
                relative_humidity_percent="40")
    assert client.post(url, form).status_code == 302
    assert study.pull_points.count() == 3 and Study.objects.get(pk=study.pk).relative_humidity_percent == 40


def test_the_redate_form_moves_a_point_and_refuses_a_measured_one(study, members, login):
    client = login(members["chemist"])
    p = point(study, "1 month")
    url = reverse("pull_point_redate", args=[study.pk])
    new_due = (p.due_at + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {"point": p.pk, "due_at": new_due, "reason": "holiday"}).status_code == 302
    assert point(study, "1 month").due_at == p.due_at + timedelta(days=2)
    measure(study.samples.get(), 0.5)
    t0 = point(study, "t0")
    refused = client.post(url, {"point": t0.pk, "due_at": new_due, "reason": "x"})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
