"""The pages: unmatched items listed and assigned by a person; folders configured by a
manager; nothing of another project visible."""
from __future__ import annotations

import os
import shutil

import pytest

from labtrack.dropfolders.models import DropFolder, DropItem, ItemState
from labtrack.dropfolders.scanning import folder_scan
from labtrack.measurements.models import Measurement
from tests.labtrack.dropfolders.conftest import ASPIRIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def unmatched(nmr_folder):
    shutil.copytree(ASPIRIN, os.path.join(nmr_folder.path, "aspirin-test", "1"))
    folder_scan(folder_id=nmr_folder.pk), folder_scan(folder_id=nmr_folder.pk)
    item = DropItem.objects.get()
    assert item.state == ItemState.UNMATCHED
    return item


def test_unmatched_item_is_listed_and_assigned_from_the_page(client, members, unmatched, samples):
    client.force_login(members["chemist"])
    listing = client.get("/dropfolders/").content.decode()
    assert "aspirin-test/1" in listing and "The naming rule finds no sample code" in listing
    detail = client.get(f"/dropfolders/{unmatched.folder_id}/").content.decode()
    assert f'action="/dropfolders/items/{unmatched.pk}/assign/"' in detail
    assert '<option value="nmr" selected>' in detail  # detected as NMR
    response = client.post(f"/dropfolders/items/{unmatched.pk}/assign/",
                           {"sample_code": "nc12.8-p", "technique": "nmr", "next": f"/dropfolders/{unmatched.folder_id}/"})
    assert response.status_code == 302 and response.url == f"/dropfolders/{unmatched.folder_id}/"
    unmatched.refresh_from_db()
    measurement = Measurement.objects.get()
    assert unmatched.state == ItemState.INGESTED and unmatched.measurement == measurement
    assert measurement.sample == samples["NC12.8-P"] and measurement.operator == members["chemist"]
    assert unmatched.decided_by == members["chemist"]
    assert unmatched.path == os.path.join(unmatched.folder.path, "processed", "aspirin-test", "1")
    page = client.get(response.url).content.decode()
    assert "ingested as a measurement of NC12.8-P" in page and "Nothing waits for a person" in page


def test_assigning_an_unknown_sample_says_so_and_keeps_the_item(client, members, unmatched):
    client.force_login(members["chemist"])
    response = client.post(f"/dropfolders/items/{unmatched.pk}/assign/", {"sample_code": "NC1.0-Q", "technique": "nmr"},
                           follow=True)
    assert "No sample NC1.0-Q in Perovskite NCs" in response.content.decode()
    unmatched.refresh_from_db()
    assert unmatched.state == ItemState.UNMATCHED and os.path.isdir(unmatched.path)


def test_assigning_the_wrong_technique_is_refused_and_the_item_waits(client, members, unmatched, samples):
    client.force_login(members["chemist"])
    response = client.post(f"/dropfolders/items/{unmatched.pk}/assign/", {"sample_code": "NC12.8-P", "technique": "saxs"},
                           follow=True)
    assert "not SAXS" in response.content.decode()
    unmatched.refresh_from_db()
    assert unmatched.state == ItemState.UNMATCHED and "not SAXS" in unmatched.message
    assert not Measurement.objects.exists()


def test_dismiss_keeps_the_files_and_records_who(client, members, unmatched):
    client.force_login(members["chemist"])
    client.post(f"/dropfolders/items/{unmatched.pk}/dismiss/", {"reason": "test spectrum of the service engineer"})
    unmatched.refresh_from_db()
    assert unmatched.state == ItemState.DISMISSED and unmatched.decided_by == members["chemist"]
    assert "service engineer" in unmatched.message and os.path.isdir(unmatched.path)
    again = client.post(f"/dropfolders/items/{unmatched.pk}/dismiss/", follow=True).content.decode()
    assert "there is nothing to decide" in again


def test_viewer_sees_but_cannot_decide(client, members, unmatched):
    client.force_login(members["viewer"])
    assert "A chemist of the project decides" in client.get("/dropfolders/").content.decode()
    response = client.post(f"/dropfolders/items/{unmatched.pk}/assign/", {"sample_code": "NC12.8-P", "technique": "nmr"})
    assert response.status_code == 403
    assert DropItem.objects.get().state == ItemState.UNMATCHED


def test_other_projects_see_nothing(client, make_user, other_project, unmatched):
    from labtrack.samples.models import Membership

    outsider = make_user("outsider")
    Membership.objects.create(project=other_project, user=outsider, role="manager")
    client.force_login(outsider)
    listing = client.get("/dropfolders/").content.decode()
    assert "aspirin-test" not in listing and "NMR 400 export" not in listing
    assert client.get(f"/dropfolders/{unmatched.folder_id}/").status_code == 404
    assert client.post(f"/dropfolders/items/{unmatched.pk}/dismiss/").status_code == 404
    assert DropItem.objects.get().state == ItemState.UNMATCHED


def test_manager_adds_a_folder_only_under_the_allowed_roots(client, members, project, drop_root):
    client.force_login(members["manager"])
    form = {"name": "SAXS export", "project": project.pk, "technique": "saxs", "upload_as": "chemist",
            "naming_rule": r"^(?P<sample>NC[\d.]+-\w+)", "processed_path": "processed", "settle_s": "10"}
    assert 'href="/dropfolders/new/"' in client.get("/dropfolders/").content.decode()
    refused = client.post("/dropfolders/new/", {**form, "path": "/etc"})
    assert refused.status_code == 400 and "outside the folders LabTrack may watch" in refused.content.decode()
    bad_rule = client.post("/dropfolders/new/", {**form, "path": str(drop_root), "naming_rule": "^NC"})
    assert bad_rule.status_code == 400 and "group named" in bad_rule.content.decode()
    created = client.post("/dropfolders/new/", {**form, "path": str(drop_root), "enabled": "on"})
    folder = DropFolder.objects.get()
    assert created.status_code == 302 and created.url == f"/dropfolders/{folder.pk}/"
    assert folder.upload_as == members["chemist"] and folder.settle_s == 10


def test_chemist_cannot_add_a_folder(client, members, project, drop_root):
    client.force_login(members["chemist"])
    assert "New drop folder" not in client.get("/dropfolders/").content.decode()
    assert client.get("/dropfolders/new/").status_code == 403
    response = client.post("/dropfolders/new/", {"path": str(drop_root), "project": project.pk, "technique": "nmr"})
    assert response.status_code == 403 and not DropFolder.objects.exists()


def test_admin_edits_a_folder_with_the_same_checks_and_never_an_item(client, make_user, nmr_folder, unmatched):
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    url = f"/admin/dropfolders/dropfolder/{nmr_folder.pk}/change/"
    form = {"name": nmr_folder.name, "path": nmr_folder.path, "project": nmr_folder.project_id, "technique": "nmr",
            "naming_rule": "^NC", "upload_as": nmr_folder.upload_as_id, "processed_path": "processed",
            "settle_s": "5", "created_at_0": "2024-01-01", "created_at_1": "00:00:00"}
    refused = client.post(url, form)
    assert refused.status_code == 200 and "group named" in refused.content.decode()
    assert client.post(url, {**form, "naming_rule": r"^(?P<sample>NC[\d.]+-P)"}).status_code == 302
    nmr_folder.refresh_from_db()
    assert nmr_folder.settle_s == 5 and not nmr_folder.enabled  # the unchecked box disables it
    item_url = f"/admin/dropfolders/dropitem/{unmatched.pk}/change/"
    assert client.get(item_url).status_code == 200
    assert client.post(item_url, {"state": "dismissed"}).status_code == 403
