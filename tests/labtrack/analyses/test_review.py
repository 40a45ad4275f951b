"""Review rules: who may sign, reasons, first decision wins, audit of decisions."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from labtrack.analyses.models import ReviewState
from labtrack.analyses.review import run_review
from labtrack.core.errors import Conflict
from tests.labtrack.factories import make_batch, make_succeeded_run


@pytest.fixture
def run(members, project):
    batch = make_batch(members["chemist"], project)
    return make_succeeded_run(batch, requested_by=members["analyst"])


def test_requester_cannot_accept_own_run(run, members):
    with pytest.raises(PermissionDenied, match="someone other"):
        run_review(run=run, reviewer=members["analyst"], accept=True)
    run.refresh_from_db()
    assert run.review_state == ReviewState.PENDING


def test_chemist_cannot_review(run, members):
    with pytest.raises(PermissionDenied):
        run_review(run=run, reviewer=members["chemist"], accept=True)


def test_reject_needs_a_reason(run, members):
    with pytest.raises(ValidationError) as exc:
        run_review(run=run, reviewer=members["analyst2"], accept=False, reason="  ")
    assert exc.value.message_dict["reason"] == ["Say why the fit is rejected."]


def test_accept_records_who_when_meaning_and_hash(run, members):
    reviewed = run_review(run=run, reviewer=members["analyst2"], accept=True)
    assert reviewed.review_state == ReviewState.ACCEPTED
    assert reviewed.reviewer == members["analyst2"]
    assert reviewed.reviewed_at is not None
    assert reviewed.reviewed_result_sha256 == run.result_sha256
    assert reviewed.review_meaning.startswith("Accepted")
    record = reviewed.history.first()
    assert record.history_user == members["analyst2"]
    assert record.history_change_reason == "accepted"


def test_second_decision_is_told_it_lost(run, members, make_user):
    from labtrack.samples.models import Membership

    run_review(run=run, reviewer=members["analyst2"], accept=False, reason="baseline wrong")
    with pytest.raises(Conflict, match="already rejected by analyst2"):
        run_review(run=run, reviewer=members["manager"], accept=True)
    run.refresh_from_db()
    assert run.review_state == ReviewState.REJECTED
    assert run.review_reason == "baseline wrong"
