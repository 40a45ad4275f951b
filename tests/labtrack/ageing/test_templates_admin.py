"""Study templates are edited in the admin, with the same checks as study_create."""
from __future__ import annotations

import json

import pytest

from labtrack.ageing.admin import StudyTemplateForm

pytestmark = pytest.mark.django_db


def form(pull_points, quantities=("cs133_bulk_fraction",)):
    return StudyTemplateForm(data={"name": "Fridge, 12 months", "atmosphere": "n2", "light": "dark",
                                   "pull_points": json.dumps(pull_points),
                                   "quantities": json.dumps(list(quantities))})


def test_valid_template_saves_sorted_points():
    f = form([{"offset_days": 90, "label": "3 months"}, {"offset_days": 0, "label": "t0"}])
    assert f.is_valid(), f.errors
    assert [p["label"] for p in f.save().pull_points] == ["t0", "3 months"]


def test_bad_pull_point_is_a_form_error():
    f = form([{"offset_days": 0}, {"offset_days": 0}])
    assert not f.is_valid() and "two points at 0 days" in f.errors["pull_points"][0]


def test_unknown_quantity_is_a_form_error():
    f = form([{"offset_days": 0}], quantities=("colour",))
    assert not f.is_valid() and "Unknown quantity 'colour'" in f.errors["quantities"][0]
