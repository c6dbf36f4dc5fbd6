import pytest

from clients.errors import ClientHierarchyError
from clients.models import Client
from clients.services import client_set_parent
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_it_moves_a_company_under_a_group_head(admin_user) -> None:
    holding, subsidiary = ClientFactory(), ClientFactory()
    client_set_parent(client=subsidiary, parent=holding, by=admin_user)
    assert Client.objects.get(pk=subsidiary.pk).parent == holding


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_it_refuses_to_make_a_company_its_own_ancestor(depth: int, admin_user) -> None:
    top = ClientFactory()
    chain = [top]
    for _ in range(depth):
        chain.append(ClientFactory(parent=chain[-1]))
    with pytest.raises(ClientHierarchyError, match="its own parent"):
        client_set_parent(client=top, parent=chain[-1], by=admin_user)
    assert Client.objects.get(pk=top.pk).parent is None


def test_it_makes_a_company_a_group_head_again(admin_user) -> None:
    child = ClientFactory(parent=ClientFactory())
    client_set_parent(client=child, parent=None, by=admin_user)
    assert Client.objects.get(pk=child.pk).parent is None
