"""Who may change delivery work: the role on the account decides (DESIGN.md).

Seeing is `visible_to(user)`; these answer the next question for a row the person already sees.
Views show buttons from them, services enforce them.

- Projects, their milestones and tasks, training and marketing initiatives are run by the
  account's project managers and NAM, its team lead, and admin.
- A milestone's owner may complete (and reopen) it; a task's assignee may mark it done.
- Service cases are run by the account's customer service and NAM, its team lead, and admin.
- Everyone else who sees the account (sales, executive sponsors, finance) reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts_crm.access import AnyUser, is_admin
from clients.policies import account_roles, leads_team_of

if TYPE_CHECKING:
    from clients.models import Client
    from projects.models import Milestone, Task

PROJECT_RUNNERS = frozenset({"nam", "project_manager"})
CASE_HANDLERS = frozenset({"nam", "customer_service"})


def can_run_projects(user: AnyUser, client: Client) -> bool:
    """Projects, milestones, tasks, training sessions and marketing initiatives."""
    return (
        is_admin(user)
        or leads_team_of(user, client)
        or bool(account_roles(user, client) & PROJECT_RUNNERS)
    )


def can_complete_milestone(user: AnyUser, milestone: Milestone) -> bool:
    return (user.is_authenticated and milestone.owner_id == user.pk) or can_run_projects(
        user, milestone.project.client
    )


def can_mark_task_done(user: AnyUser, task: Task) -> bool:
    return (user.is_authenticated and task.assignee_id == user.pk) or can_run_projects(
        user, task.project.client
    )


def can_run_service_cases(user: AnyUser, client: Client) -> bool:
    return (
        is_admin(user)
        or leads_team_of(user, client)
        or bool(account_roles(user, client) & CASE_HANDLERS)
    )
