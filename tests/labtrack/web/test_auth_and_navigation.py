"""Login, logout, the project switcher and role-aware navigation."""
from __future__ import annotations

from django.urls import reverse


def test_anonymous_user_is_sent_to_login(client, db):
    response = client.get(reverse("batch_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_with_password_lands_on_batch_list(client, members):
    response = client.post(reverse("login"), {"username": "chemist", "password": "pw-chemist"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("batch_list")
    assert b"Log out" in response.content


def test_wrong_password_shows_an_error(client, members):
    response = client.post(reverse("login"), {"username": "chemist", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content


def test_logout_ends_the_session(login, members):
    client = login(members["viewer"])
    client.post(reverse("logout"))
    assert client.get(reverse("batch_list")).status_code == 302


def test_viewer_navigation_has_no_new_batch_or_review_links(login, members):
    html = login(members["viewer"]).get(reverse("batch_list")).content.decode()
    assert reverse("batch_create") not in html
    assert reverse("review_queue") not in html


def test_analyst_navigation_has_review_queue(login, members):
    html = login(members["analyst"]).get(reverse("batch_list")).content.decode()
    assert reverse("review_queue") in html
    assert reverse("batch_create") in html


def test_project_switcher_changes_the_listed_project(login, members, project, other_project, batch):
    from labtrack.samples.models import Membership
    from tests.labtrack.factories import make_batch

    chemist = members["chemist"]
    Membership.objects.create(project=other_project, user=chemist, role="chemist")
    make_batch(chemist, other_project, code="OT-1")
    client = login(chemist)
    client.post(reverse("project_switch"), {"project": other_project.pk})
    html = client.get(reverse("batch_list")).content.decode()
    assert "OT-1" in html and "NC8.3" not in html
    client.post(reverse("project_switch"), {"project": project.pk})
    html = client.get(reverse("batch_list")).content.decode()
    assert "NC8.3" in html and "OT-1" not in html


def test_project_switcher_ignores_a_project_the_user_is_not_in(login, members, project, other_project, batch):
    client = login(members["chemist"])
    client.post(reverse("project_switch"), {"project": other_project.pk})
    assert "NC8.3" in client.get(reverse("batch_list")).content.decode()
