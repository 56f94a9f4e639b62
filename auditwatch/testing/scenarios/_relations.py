"""Relationship scenarios: a user opens the record of someone close to them (a colleague, a VIP, a
declared associate, themselves, family, a neighbour), and the look-alikes that explain such an open.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from auditwatch.testing.scenarios import _names as names
from auditwatch.testing.scenarios._injector import UNRELATED, Injector, cad
from auditwatch.testing.scenarios._model import Person, Staff


def colleague(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("colleague", i)
        u = inj.users(f"colleague/{fmt}", kinds)
        c = staff_persons(inj, u)
        inj.lookup_incident("colleague_lookup", fmt, u, c.as_person())
    for _ in range(inj.n_like):
        # the colleague is a witness on a case the user works
        u = inj.users("colleague/witness", ("response", "investigator"))
        c = staff_persons(inj, u, lookalike=True)
        case = inj.new_case([u], [(c.as_person(), "witness"), (force.take_unlinked(rng, u), "suspect")])
        inj.lookup_lookalike("colleague_lookup", "witness_on_assigned_case", u, c.as_person(), ref=case.ref)
    for _ in range(inj.n_like):
        u = inj.users("colleague/psd", ("psd", "vetting"))
        c = staff_persons(inj, u, lookalike=True)
        ref = f"PSD/{rng.randrange(100, 999)}/26"
        inj.lookup_lookalike(
            "colleague_lookup", "psd_vetting_enquiry", u, c.as_person(), fmt="rms_json", ref=ref
        )


def staff_persons(inj: Injector, other_than: Staff, *, lookalike: bool = False) -> Staff:
    """A member of staff who has a person record, unrelated to `other_than` (other surname, other unit).

    Colleagues looked up in incidents are never used in look-alikes, so a look-alike's case can
    never explain an incident."""
    pool = [
        s
        for s in inj.force.staff
        if s.person_id
        and s.number != other_than.number
        and s.surname != other_than.surname
        and s.unit != other_than.unit
        and not (lookalike and s.number in inj.incident_colleagues)
    ]
    chosen = inj.rng.choice(pool)
    if not lookalike:
        inj.incident_colleagues.add(chosen.number)
    return chosen


def vip(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    vips: list[Person] = []
    for i in range(max(inj.n, 4)):
        category, reason = names.VIP_CATEGORIES[i % len(names.VIP_CATEGORIES)]
        p = force.new_public(rng)
        force.watchlist.append((p.person_id, category, reason))
        vips.append(p)
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("vip", i)
        u = inj.users(f"vip/{fmt}", kinds)
        inj.lookup_incident("vip_lookup", fmt, u, vips[i % len(vips)])
    for i in range(inj.n_like):
        u = inj.users("vip/assigned", ("response", "investigator"))
        p = vips[i % len(vips)]
        case = inj.new_case([u], [(p, "victim")])
        inj.lookup_lookalike("vip_lookup", "assigned_to_case", u, p, ref=case.ref)
    for i in range(inj.n_like):
        u = inj.users("vip/press", ("press",))
        p = vips[(i + 1) % len(vips)]
        inj.lookup_lookalike("vip_lookup", "press_office", u, p, fmt="rms_json", weekday=True)


def associate(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("associate", i)
        u = inj.users(f"associate/{fmt}", kinds)
        inj.lookup_incident("declared_associate", fmt, u, declare(inj, u))
    for _ in range(inj.n_like):
        # a conflict of interest even on an assigned case: still an alert, at a lower severity
        u = inj.users("associate/assigned", ("response", "investigator"))
        p = declare(inj, u)
        case = inj.new_case([u], [(p, "witness"), (force.take_unlinked(rng, u), "suspect")])
        inj.lookup_lookalike("declared_associate", "assigned_to_case", u, p, lower=True, ref=case.ref)
    # a few more declarations nobody looks up: the register is not only the people who get searched
    for s in rng.sample([s for s in force.staff if s.number not in inj.reserved], max(2, inj.n // 2)):
        declare(inj, s)


def declare(inj: Injector, u: Staff) -> Person:
    rng, force = inj.rng, inj.force
    surname = rng.choice([n for n, _ in names.COMMON_SURNAMES if n != u.surname])
    p = force.new_public(rng, surname=surname)
    relationship = rng.choice(names.RELATIONSHIPS)
    declared = force.start - timedelta(days=rng.randrange(30, 900))
    force.associates.append((u.number, p.person_id, relationship, declared))
    return p


def self_lookup(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("self", i)
        u = inj.users(f"self/{fmt}", kinds)
        if u.person_id is None:  # give them a record of their own (a witness statement years ago)
            idx = force.staff.index(u)
            u = force.staff[idx] = replace(u, person_id=force.new_person_id(rng), person_id_in_hr=i % 2 == 0)
            force.add_person(u.as_person())
        inj.lookup_incident("self_lookup", fmt, u, u.as_person())
    for _ in range(inj.n_like):
        u = inj.users("self/sar", ("subject_access", "training"))
        if u.person_id is None:
            idx = force.staff.index(u)
            u = force.staff[idx] = replace(u, person_id=force.new_person_id(rng), person_id_in_hr=True)
            force.add_person(u.as_person())
        inj.lookup_lookalike(
            "self_lookup",
            "subject_access_or_training",
            u,
            u.as_person(),
            must_not=["self_lookup", "colleague_lookup", UNRELATED],
            fmt="rms_json",
            weekday=True,
        )


def family(inj: Injector) -> None:
    rng, force = inj.rng, inj.force

    def rare(s: Staff) -> bool:
        return s.surname in force.staff_surnames_rare

    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("family", i)
        u = inj.users(f"family/{fmt}", kinds, rare)
        inj.lookup_incident("family_surname", fmt, u, force.new_public(rng, surname=u.surname))
    for _ in range(inj.n_like):
        u = inj.users("family/assigned", ("response", "investigator"), rare)
        p = force.new_public(rng, surname=u.surname)
        case = inj.new_case([u], [(p, "victim")])
        inj.lookup_lookalike("family_surname", "linked_to_assigned_case", u, p, ref=case.ref)
    common = {n for n, _ in names.COMMON_SURNAMES[:30]}
    for _ in range(inj.n_like):
        # a call handler called Smith checks a caller called Smith
        u = inj.users(
            "family/common", ("control_room",), lambda s: s.surname not in force.staff_surnames_rare
        )
        if u.surname not in common:
            idx = force.staff.index(u)
            u = force.staff[idx] = replace(u, surname=rng.choice(sorted(common)))
        p = force.new_public(rng, surname=u.surname)
        inj.lookup_lookalike("family_surname", "common_surname", u, p, fmt="rms_json", ref=cad(rng))


def neighbour(inj: Injector) -> None:
    for i in range(inj.n):
        # only the records-management log carries the subject's postcode
        fmt, kinds = inj.fmt_for("neighbour", i, inj.shape.neighbour_formats)
        u = inj.users(f"neighbour/{fmt}", kinds)
        inj.lookup_incident("neighbour_lookup", fmt, u, neighbour_of(inj, u))
    for _ in range(inj.n_like):
        u = inj.users("neighbour/assigned", ("response", "investigator"))
        p = neighbour_of(inj, u)
        case = inj.new_case([u], [(p, "victim")])
        inj.lookup_lookalike(
            "neighbour_lookup", "linked_to_assigned_case", u, p, fmt="rms_json", ref=case.ref
        )


def neighbour_of(inj: Injector, u: Staff) -> Person:
    rng = inj.rng
    number = rng.randrange(1, 180)
    street = u.address.split(" ", 1)[1] if " " in u.address else u.address
    surname = rng.choice([n for n, _ in names.COMMON_SURNAMES if n != u.surname])
    return inj.force.new_public(rng, surname=surname, postcode=u.postcode, address=f"{number} {street}")
