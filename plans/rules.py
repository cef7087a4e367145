"""Who may aim whom at what: the plan-specific powers that a role alone does not decide.

Owners and admins set anything. A leader assigns targets, budgets and goals to the members below
them (never to themselves: nobody raises their own target) and breaks down any target of their
subtree, their own included. An agent breaks down only their own targets, into a personal plan
by period, region, product or customer. A target that was broken down from a parent belongs to
whoever may break that parent down; the parent's value bounds it, so editing it raises nothing.
"""

from agents.models import Membership, Role

from .models import Target


def in_subtree(member: Membership | None, root: Membership) -> bool:
    return member is not None and bool(root.path) and member.path.startswith(root.path)


def can_assign(actor: Membership, member: Membership | None) -> bool:
    """Whether the actor may give `member` a top-level target, budget or goal."""
    if actor.is_manager:
        return True
    if actor.role != Role.LEADER:
        return False
    return in_subtree(member, actor) and member.pk != actor.pk


def can_break_down(actor: Membership, target: Target) -> bool:
    if actor.is_manager:
        return True
    if actor.role == Role.LEADER:
        return in_subtree(target.member, actor)
    return target.member_id == actor.pk


def can_write_target(actor: Membership, target: Target) -> bool:
    """Whether the actor may change or delete an existing target."""
    if actor.is_manager:
        return True
    if target.parent_id is not None:
        return can_break_down(actor, target.parent)
    return can_assign(actor, target.member)


def can_manage_for(actor: Membership, member: Membership | None) -> bool:
    """Tasks: a leader directs their whole subtree, themselves included."""
    if actor.is_manager:
        return True
    return actor.role == Role.LEADER and in_subtree(member, actor)
