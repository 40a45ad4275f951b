"""The review lifecycle of an analysis run, as a state machine. The only writer of
review fields; the database constraints on AnalysisRun back every rule here.

    pending --accept--> accepted --retract--> pending
    pending --reject--> rejected

- Only a current, succeeded run is reviewed; a superseded one is refused (Conflict,
  HTTP 409 in the API) and the message names the run that replaced it.
- Accepting a re-fit supersedes its ancestors in the same transaction: they stop being
  current, so the re-fit's numbers become those of record and the old ones never count
  again. An accepted run of the same measurement and routine that is *not* an ancestor
  blocks the accept: retract it first (one record per measurement and routine).
- Retracting an acceptance also retracts the accepted runs derived from it.
- The requester may not review their own run; a rejection and a retraction need a
  reason; the first decision wins; every transition is in the run's history.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from labtrack.analyses.derived import derived_runs_request
from labtrack.analyses.models import AnalysisRun, ReviewState, RunStatus
from labtrack.analyses.services import audit_run, run_newest_version, run_refit
from labtrack.core.errors import Conflict
from labtrack.core.roles import Action
from labtrack.samples.permissions import require

ACCEPT_MEANING = "Accepted: I have checked this fit against its data and approve its values for reporting."
REJECT_MEANING = "Rejected: this fit's values must not be reported."


@dataclass(frozen=True)
class Transition:
    name: str
    source: str
    target: str
    needs_reason: bool


TRANSITIONS = {
    "accept": Transition("accept", ReviewState.PENDING, ReviewState.ACCEPTED, needs_reason=False),
    "reject": Transition("reject", ReviewState.PENDING, ReviewState.REJECTED, needs_reason=True),
    "retract": Transition("retract", ReviewState.ACCEPTED, ReviewState.PENDING, needs_reason=True),
}
PAST_TENSE = {"accept": "accepted", "reject": "rejected", "retract": "retracted"}


def allowed_transitions(run: AnalysisRun) -> list[str]:
    """Names of the transitions the run's state allows (for showing buttons)."""
    if not run.is_current or run.status != RunStatus.SUCCEEDED:
        return []
    return [t.name for t in TRANSITIONS.values() if t.source == run.review_state]


def _check(run: AnalysisRun, user, transition: Transition, reason: str) -> None:
    require(user, run.project, Action.REVIEW)
    if transition.name != "retract" and run.requested_by_id == user.pk:
        raise PermissionDenied("A run must be reviewed by someone other than the person who requested it.")
    if transition.needs_reason and not reason.strip():
        what = "the fit is rejected" if transition.name == "reject" else "the acceptance is retracted"
        raise ValidationError({"reason": f"Say why {what}."})
    if run.status != RunStatus.SUCCEEDED:
        raise ValidationError({"run": f"Run #{run.pk} has not succeeded ({run.get_status_display()}); "
                                      "only finished fits can be reviewed."})
    if not run.is_current:
        newest = run_newest_version(run)
        raise Conflict(f"Run #{run.pk} has been superseded by run #{newest.pk}; "
                       f"review the newest version instead.")


def _ancestors(run: AnalysisRun) -> list[int]:
    ids, node_id, seen = [], run.supersedes_id, {run.pk}
    while node_id and node_id not in seen:
        seen.add(node_id)
        ids.append(node_id)
        node_id = AnalysisRun.objects.filter(pk=node_id).values_list("supersedes_id", flat=True).first()
    return ids


def _lost_race(run: AnalysisRun) -> Conflict:
    current = AnalysisRun.objects.select_related("reviewer").get(pk=run.pk)
    if not current.is_current:
        return Conflict(f"Run #{run.pk} was superseded by run #{run_newest_version(current).pk} meanwhile.")
    who = f" by {current.reviewer}" if current.reviewer else ""
    when = f" at {current.reviewed_at:%Y-%m-%d %H:%M}" if current.reviewed_at else ""
    return Conflict(f"Run #{run.pk} was already {current.get_review_state_display().lower()}{who}{when}.")


def _transition(run: AnalysisRun, user, name: str, reason: str = "") -> AnalysisRun:
    transition = TRANSITIONS[name]
    _check(run, user, transition, reason)
    reason = reason.strip()
    now = timezone.now()
    if transition.target == ReviewState.PENDING:
        fields: dict[str, Any] = dict(review_state=ReviewState.PENDING, reviewer=None, reviewed_at=None,
                                      review_reason="", review_meaning="", reviewed_result_sha256="")
    else:
        fields = dict(review_state=transition.target, reviewer=user, reviewed_at=now, review_reason=reason,
                      review_meaning=ACCEPT_MEANING if name == "accept" else REJECT_MEANING,
                      reviewed_result_sha256=run.result_sha256)
    with transaction.atomic():
        if name == "accept":
            _supersede_for(run)
        try:
            with transaction.atomic():
                # One conditional update decides a race: exactly one reviewer changes the row.
                updated = AnalysisRun.objects.filter(
                    pk=run.pk, review_state=transition.source, is_current=True, status=RunStatus.SUCCEEDED,
                ).update(**fields)
        except IntegrityError:
            # The partial unique index: another run of this measurement and routine was
            # accepted at the same moment.
            raise Conflict(_blocking_message(run)) from None
        if not updated:
            raise _lost_race(run)
        audit_run(run.pk, f"{PAST_TENSE[name]}{': ' + reason if reason else ''}", user=user)
    return AnalysisRun.objects.get(pk=run.pk)


def _supersede_for(run: AnalysisRun) -> None:
    """Before accepting `run`: its ancestors stop being current (a re-fit replaces its
    parent), and any other accepted current run of its measurement and routine blocks."""
    ancestors = _ancestors(run)
    if ancestors:
        AnalysisRun.objects.filter(pk__in=ancestors, is_current=True).update(is_current=False)
        for pk in ancestors:
            audit_run(pk, f"superseded by run #{run.pk} (accepted)")
    if run.measurement_id is not None and _blocking(run).exists():
        raise Conflict(_blocking_message(run))


def _blocking(run: AnalysisRun):
    return (AnalysisRun.objects.of_record().filter(measurement_id=run.measurement_id, routine=run.routine)
            .exclude(pk=run.pk))


def _blocking_message(run: AnalysisRun) -> str:
    other = _blocking(run).values_list("pk", flat=True).first()
    which = f"run #{other}" if other else "another run"
    return (f"{which} is already the accepted {run.routine} result of this measurement; retract it "
            f"before accepting run #{run.pk}.")


def run_accept(*, run: AnalysisRun, reviewer) -> AnalysisRun:
    """Accept a fit: its numbers become the result of record; derived runs that use it
    (the layer model) are requested in the same transaction."""
    with transaction.atomic():
        accepted = _transition(run, reviewer, "accept")
        derived_runs_request(batch=accepted.batch, user=reviewer)
    return accepted


def run_reject(*, run: AnalysisRun, reviewer, reason: str) -> AnalysisRun:
    return _transition(run, reviewer, "reject", reason)


def run_retract(*, run: AnalysisRun, user, reason: str,
                refit_parameters: dict[str, Any] | None = None) -> tuple[AnalysisRun, AnalysisRun | None]:
    """Withdraw an acceptance (it is wrong, or needs a re-fit): the run goes back to
    pending with who, when and why in its history, and so do accepted runs derived from
    it. With `refit_parameters`, a re-fit is requested in the same transaction. Returns
    (the run, the re-fit or None)."""
    with transaction.atomic():
        retracted = _transition(run, user, "retract", reason)
        _retract_derivatives(retracted, user, reason)
        refit = run_refit(run=retracted, user=user, parameters=refit_parameters) if refit_parameters is not None else None
    return retracted, refit


def _retract_derivatives(run: AnalysisRun, user, reason: str) -> None:
    """A result computed from a withdrawn one (the layer model from a deconvolution)
    stops counting with it; its history says why."""
    for derived in AnalysisRun.objects.of_record().filter(derived_from=run):
        retracted = _transition(derived, user, "retract", f"its input run #{run.pk} was retracted: {reason.strip()}")
        _retract_derivatives(retracted, user, reason)


def run_review(*, run: AnalysisRun, reviewer, accept: bool, reason: str = "") -> AnalysisRun:
    """Accept, or reject with a reason (the form and API's single entry point)."""
    if accept:
        return run_accept(run=run, reviewer=reviewer)
    return run_reject(run=run, reviewer=reviewer, reason=reason)



def runs_accept_many(*, run_ids: list[int], reviewer) -> tuple[list[AnalysisRun], list[str]]:
    """Accept several fits (e.g. a whole batch's, from the review queue), each by the same
    rules and in its own transaction, so one refusal does not undo the others. Returns
    (accepted runs, one message per refusal)."""
    accepted, refused = [], []
    for run in AnalysisRun.objects.visible_to(reviewer).filter(pk__in=run_ids).order_by("queued_at", "id"):
        try:
            accepted.append(run_accept(run=run, reviewer=reviewer))
        except (Conflict, ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            refused.append(f"Run #{run.pk}: {text}")
    return accepted, refused
