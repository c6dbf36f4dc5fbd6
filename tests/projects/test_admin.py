"""The projects admin opens for support staff; what the services guard is read-only there."""

import pytest

from tests.factories import (
    MarketingInitiativeFactory,
    MilestoneDependencyFactory,
    ServiceCaseFactory,
    ServiceLevelFactory,
    TaskFactory,
    TrainingAttendanceFactory,
)

pytestmark = pytest.mark.django_db


def test_it_lists_and_opens_every_projects_model(admin_user, login) -> None:
    dependency = MilestoneDependencyFactory()
    milestone = dependency.milestone
    rows = {
        "project": milestone.project,
        "milestone": milestone,
        "task": TaskFactory(project=milestone.project, milestone=milestone),
        "trainingsession": TrainingAttendanceFactory().session,
        "marketinginitiative": MarketingInitiativeFactory(),
        "servicelevel": ServiceLevelFactory(),
        "servicecase": ServiceCaseFactory(),
    }
    client = login(admin_user)
    for model, row in rows.items():
        for url in (f"/admin/projects/{model}/", f"/admin/projects/{model}/{row.pk}/change/"):
            assert client.get(url).status_code == 200, url


def test_completion_and_sla_are_read_only(admin_user, login) -> None:
    client = login(admin_user)
    milestone = MilestoneDependencyFactory().milestone
    page = client.get(f"/admin/projects/milestone/{milestone.pk}/change/")
    assert b'name="completed_on"' not in page.content
    assert b'name="dependencies-0-predecessor"' in page.content
    case = ServiceCaseFactory()
    page = client.get(f"/admin/projects/servicecase/{case.pk}/change/")
    assert b'name="sla_due' not in page.content
    assert b'name="status"' not in page.content
    assert b'name="priority"' in page.content
