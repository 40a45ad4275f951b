"""Creating and editing a drop folder on its own page: managers only; the path, naming rule,
instrument and enabled checked with a message on the field that is wrong."""
from __future__ import annotations

import pytest
from django.urls import reverse

from labtrack.dropfolders.models import DropFolder
from labtrack.measurements.models import Instrument

pytestmark = pytest.mark.django_db


def _form(folder: DropFolder, **changes) -> dict:
    data = {"name": folder.name, "path": folder.path, "technique": folder.technique, "instrument": "",
            "naming_rule": folder.naming_rule, "upload_as": folder.upload_as.username,
            "processed_path": folder.processed_path, "settle_s": str(folder.settle_s), "enabled": "on",
            "example_name": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_manager_changes_path_instrument_rule_and_disables_the_folder(client, members, nmr_folder, drop_root):
    client.force_login(members["manager"])
    assert 'href="/dropfolders/%d/edit/"' % nmr_folder.pk in client.get(
        reverse("dropfolder_detail", args=[nmr_folder.pk])).content.decode()
    moved = drop_root / "nmr400-new"
    moved.mkdir()
    probe = Instrument.objects.create(name="Bruker 400 WB", technique="nmr")
    response = client.post(reverse("dropfolder_edit", args=[nmr_folder.pk]), _form(
        nmr_folder, path=str(moved), instrument=str(probe.pk), naming_rule=r"^(?P<sample>NC[\d.]+-P(?:-AGED)?)",
        enabled=None, example_name="NC12.8-P-AGED_cs133.fid"))
    assert response.status_code == 302, response.content.decode()[:2000]
    folder = DropFolder.objects.get(pk=nmr_folder.pk)
    assert (folder.path, folder.instrument, folder.enabled) == (str(moved), probe, False)
    assert folder.naming_rule == r"^(?P<sample>NC[\d.]+-P(?:-AGED)?)" and folder.project == nmr_folder.project
    shown = client.get(response.url).content.decode()
    assert "reads NC12.8-P-AGED from “NC12.8-P-AGED_cs133.fid”" in shown and "disabled" in shown
    # The edit is in the folder's audit history, by whom, setting by setting.
    from labtrack.dropfolders.selectors import folder_settings_changes
    [edit] = folder_settings_changes(folder=folder)
    assert edit.by == members["manager"].username
    assert {setting: (before, after) for setting, before, after in edit.changes} == {
        "path": (nmr_folder.path, str(moved)), "instrument": ("—", str(probe)), "enabled": ("yes", "no"),
        "naming rule": (nmr_folder.naming_rule, r"^(?P<sample>NC[\d.]+-P(?:-AGED)?)")}
    assert "Settings changes (1)" in shown and "<code>Bruker 400 WB</code>" in shown


@pytest.mark.parametrize("changes, field, message", [
    ({"naming_rule": "^(?P<sample>NC[\\d.]+"}, "naming_rule", "not a valid regular expression"),
    ({"naming_rule": "^NC[\\d.]+"}, "naming_rule", "needs a group named 'sample'"),
    ({"path": "/etc"}, "path", "outside the folders LabTrack may watch"),
    ({"path": "relative/nmr"}, "path", "absolute path"),
    ({"example_name": "spectrum_0042.dat"}, "example_name", "finds no sample code in “spectrum_0042.dat”"),
    ({"settle_s": "-1"}, "settle_s", "greater than or equal to 0"),
    ({"upload_as": "nobody-here"}, "upload_as", "No user 'nobody-here'"),
])
def test_bad_settings_are_named_on_their_field_and_nothing_changes(client, members, nmr_folder, changes, field,
                                                                    message):
    client.force_login(members["manager"])
    response = client.post(reverse("dropfolder_edit", args=[nmr_folder.pk]), _form(nmr_folder, **changes))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert DropFolder.objects.get(pk=nmr_folder.pk).path == nmr_folder.path


def test_an_instrument_of_another_technique_and_another_folders_path_are_refused(client, members, nmr_folder,
                                                                                drop_root):
    from labtrack.dropfolders.services import dropfolder_create

    client.force_login(members["manager"])
    (drop_root / "saxs").mkdir()
    other = dropfolder_create(user=members["manager"], name="SAXS", path=str(drop_root / "saxs"),
                              project=nmr_folder.project, technique="saxs", upload_as=members["chemist"])
    xrd = Instrument.objects.create(name="D8", technique="xrd")
    response = client.post(reverse("dropfolder_edit", args=[nmr_folder.pk]),
                           _form(nmr_folder, instrument=str(xrd.pk)))
    assert "D8 is a Powder XRD instrument, not Solid-state NMR" in " ".join(response.context["form"].errors["instrument"])
    taken = client.post(reverse("dropfolder_edit", args=[nmr_folder.pk]), _form(nmr_folder, path=other.path))
    assert "already another drop folder" in " ".join(taken.context["form"].errors["path"])


@pytest.mark.parametrize("role", ["viewer", "chemist", "analyst"])
def test_only_a_manager_edits(client, members, nmr_folder, role):
    client.force_login(members[role])
    url = reverse("dropfolder_edit", args=[nmr_folder.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, _form(nmr_folder, enabled=None)).status_code == 403
    assert DropFolder.objects.get(pk=nmr_folder.pk).enabled
    assert "Edit folder" not in client.get(reverse("dropfolder_detail", args=[nmr_folder.pk])).content.decode()


def test_a_manager_of_another_project_gets_a_404(client, make_user, other_project, nmr_folder):
    from labtrack.samples.models import Membership

    outsider = make_user("other-manager")
    Membership.objects.create(project=other_project, user=outsider, role="manager")
    client.force_login(outsider)
    assert client.get(reverse("dropfolder_edit", args=[nmr_folder.pk])).status_code == 404
