"""Batch and sample writes: validation messages, permissions, lineage, audit."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from labtrack.samples.models import Batch, Sample
from labtrack.samples.services import batch_create, batch_update, sample_create, sample_update


@pytest.fixture
def batch(members, project):
    return batch_create(user=members["chemist"], project=project, code="NC8.3", opa_concentration_molar=0.4,
                        reaction_duration_s=300)


def test_duplicate_batch_code_is_refused_case_insensitively(batch, members, project):
    with pytest.raises(ValidationError) as exc:
        batch_create(user=members["chemist"], project=project, code="nc8.3")
    assert "already exists" in exc.value.message_dict["code"][0]
    assert Batch.objects.count() == 1


def test_database_also_refuses_duplicate_codes(batch, project):
    with pytest.raises(IntegrityError):
        Batch.objects.create(code="NC8.3", project=project)


def test_negative_concentration_is_refused_and_nothing_saved(members, project):
    with pytest.raises(ValidationError) as exc:
        batch_create(user=members["chemist"], project=project, code="NC1", opa_concentration_molar=-0.1)
    assert exc.value.message_dict["opa_concentration_molar"] == ["OPA concentration cannot be negative (got -0.1)."]
    assert not Batch.objects.exists()


def test_viewer_cannot_create_batch(members, project):
    with pytest.raises(PermissionDenied):
        batch_create(user=members["viewer"], project=project, code="NC2")


def test_non_member_cannot_create_batch(make_user, project):
    with pytest.raises(PermissionDenied, match="non-member"):
        batch_create(user=make_user("stranger"), project=project, code="NC2")


def test_extra_parameters_are_validated_against_the_protocol(members, project):
    from labtrack.samples.models import SynthesisProtocol

    protocol = SynthesisProtocol.objects.create(
        name="RT", parameter_schema={"type": "object", "properties": {"stirring_rpm": {"type": "number"}},
                                     "additionalProperties": False})
    with pytest.raises(ValidationError) as exc:
        batch_create(user=members["chemist"], project=project, code="NC3", protocol=protocol,
                     extra_parameters={"stirring_rpm": "fast"})
    assert "stirring_rpm" in exc.value.message_dict["extra_parameters"][0]
    batch = batch_create(user=members["chemist"], project=project, code="NC3", protocol=protocol,
                         extra_parameters={"stirring_rpm": 800})
    assert batch.extra_parameters == {"stirring_rpm": 800}


def test_sample_parent_from_another_project_is_refused(members, project, other_project, make_user, batch):
    from labtrack.samples.models import Membership

    Membership.objects.create(project=other_project, user=members["chemist"], role="chemist")
    foreign_batch = batch_create(user=members["chemist"], project=other_project, code="X1")
    foreign = sample_create(user=members["chemist"], batch=foreign_batch, code="X1-P", form="powder")
    with pytest.raises(ValidationError) as exc:
        sample_create(user=members["chemist"], batch=batch, code="NC8.3-P", form="powder", parent=foreign)
    assert "another project" in exc.value.message_dict["parent"][0]
    assert not Sample.objects.filter(code="NC8.3-P").exists()


def test_lineage_cannot_loop(members, batch):
    ink = sample_create(user=members["chemist"], batch=batch, code="INK", form="colloid_ink")
    powder = sample_create(user=members["chemist"], batch=batch, code="P", form="powder", parent=ink)
    aged = sample_create(user=members["chemist"], batch=batch, code="P-AGED", form="powder", parent=powder)
    with pytest.raises(ValidationError) as exc:
        sample_update(user=members["chemist"], sample=ink, parent=aged)
    assert "cannot loop" in exc.value.message_dict["parent"][0]
    ink.refresh_from_db()
    assert ink.parent is None


def test_sample_cannot_be_its_own_parent(members, batch):
    ink = sample_create(user=members["chemist"], batch=batch, code="INK", form="colloid_ink")
    with pytest.raises(ValidationError):
        sample_update(user=members["chemist"], sample=ink, parent=ink)


def test_batch_edit_is_audited_with_user(members, batch):
    from labtrack.core.audit import acting_as

    with acting_as(members["chemist"], "typo in duration"):
        batch_update(user=members["chemist"], batch=batch, reaction_duration_s=301)
    latest = batch.history.first()
    assert latest.history_user == members["chemist"]
    assert latest.history_change_reason == "typo in duration"
    assert latest.reaction_duration_s == 301
    assert batch.history.count() == 2
