"""The go-to-market organisation: Salesforce users and role hierarchy, HubSpot owners and teams,
and the per-rep behaviour (response speed) the handoff simulation draws from.

Small tables, built as plain Python rows. Departments come from salesforce_departments, team
names and regions from hubspot_teams, regions and time zones from business_hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from sros.demo_company.arrays import epoch, numeric_id, shard_number
from sros.demo_company.config import DemoConfig
from sros.demo_company.names import FIRST_NAMES, LAST_NAMES
from sros.demo_company.seeds import Definitions

SALESFORCE, HUBSPOT = 0, 1
SDR, AE = 0, 1
ORG_DOMAIN = "sros-demo.example.com"
# Typical speed of a region's team (multiplies each rep's median minutes to first touch).
REGION_SPEED = {"na_east": 0.8, "na_west": 1.0, "uk_ireland": 1.1, "dach": 0.7, "anz": 1.6}


@dataclass
class Reps:
    """Sales reps who receive handoffs and own opportunities (both CRMs), as parallel arrays."""

    ids: np.ndarray  # object array of CRM user/owner ids
    crm: np.ndarray
    function: np.ndarray
    region: np.ndarray  # index into Org.regions
    median_minutes: np.ndarray  # typical business minutes to a first touch
    p_untouched: np.ndarray  # chance a handoff sits untouched past the reassignment window
    assignable: np.ndarray  # False for the new hire who has no deals yet

    def pool(self, crm: int, function: int, region: int) -> np.ndarray:
        rows = (
            (self.crm == crm)
            & (self.function == function)
            & (self.region == region)
            & self.assignable
        )
        if not rows.any():
            rows = (self.crm == crm) & (self.function == function) & self.assignable
        return np.flatnonzero(rows)


@dataclass
class Org:
    regions: list[str]
    sf_users: list[dict] = field(default_factory=list)
    sf_roles: list[dict] = field(default_factory=list)
    hs_owners: list[dict] = field(default_factory=list)
    hs_teams: list[dict] = field(default_factory=list)
    hs_owner_teams: list[dict] = field(default_factory=list)
    reps: Reps | None = None
    marketing_queue_user: str = ""  # owns Salesforce leads until they are handed off
    hubspot_marketing_owner: str = ""

    def headcount(self, crm: int, department: str) -> int:
        rows = self.sf_users if crm == SALESFORCE else self.hs_owners
        return sum(1 for row in rows if row["department"] == department)


def _team_size(volume: float, per_rep: float) -> int:
    return int(min(60, max(2, round(volume / per_rep))))


def build_org(config: DemoConfig, definitions: Definitions, rng: np.random.Generator) -> Org:
    """Users, roles, owners and teams sized to the lead volume."""
    regions = sorted(definitions.business_hours)
    org = Org(regions=regions)
    department = definitions.departments
    start = epoch(config.start_date) - 400 * 86_400
    new_hire = epoch(config.end_date - timedelta(days=20))
    names = iter(range(10**6))
    rep_rows: list[tuple[str, int, int, int, bool]] = []

    def person() -> tuple[str, str]:
        number = next(names)
        return FIRST_NAMES[number % len(FIRST_NAMES)], LAST_NAMES[(number * 7) % len(LAST_NAMES)]

    def role(key: str, name: str, parent: str | None) -> str:
        role_id = f"00E{shard_number(len(org.sf_roles) + 1):015d}"
        org.sf_roles.append(
            {
                "id": role_id,
                "name": name,
                "developer_name": key,
                "parent_role_id": parent,
                "rollup_description": name,
            }
        )
        return role_id

    def user(
        title: str,
        function: str,
        role_id: str,
        manager: str | None,
        region: str,
        created: int | None = None,
    ) -> str:
        first, last = person()
        number = shard_number(len(org.sf_users))
        user_id = f"005{number + 1:015d}"
        org.sf_users.append(
            {
                "id": user_id,
                "first_name": first,
                "last_name": last,
                "name": f"{first} {last}",
                "email": f"{first}.{last}{number}@{ORG_DOMAIN}".lower(),
                "title": title,
                "department": department[function],
                "user_role_id": role_id,
                "manager_id": manager,
                "region_c": region,
                "time_zone_sid_key": definitions.business_hours[region].time_zone,
                "is_active": True,
                "created_date": created if created is not None else start,
            }
        )
        return user_id

    home = "na_east"
    ceo_role = role("CEO", "Chief Executive Officer", None)
    cro_role = role("CRO", "Chief Revenue Officer", ceo_role)
    cmo_role = role("CMO", "Chief Marketing Officer", ceo_role)
    marketing_role = role("Marketing", "Marketing", cmo_role)
    ceo = user("Chief Executive Officer", "executive", ceo_role, None, home)
    cro = user("Chief Revenue Officer", "executive", cro_role, ceo, home)
    cmo = user("Chief Marketing Officer", "marketing", cmo_role, ceo, home)
    org.marketing_queue_user = user("Marketing Operations", "marketing", marketing_role, cmo, home)
    user("Demand Generation Manager", "marketing", marketing_role, cmo, home)
    user("Field Marketing Manager", "marketing", marketing_role, cmo, "uk_ireland")

    core_leads = config.n_leads * config.salesforce_share
    region_share = dict(config.regions)
    total_share = sum(region_share.values())
    for region in regions:
        share = region_share.get(region, 0.0) / total_share
        label = definitions.business_hours[region].region_name
        sdr_manager_role = role(f"SDR_Manager_{region}", f"SDR Manager {label}", cro_role)
        sales_manager_role = role(f"Sales_Manager_{region}", f"Sales Manager {label}", cro_role)
        sdr_role = role(f"SDR_{region}", f"SDR {label}", sdr_manager_role)
        ae_role = role(f"AE_{region}", f"Account Executive {label}", sales_manager_role)
        sdr_manager = user("SDR Manager", "sales_management", sdr_manager_role, cro, region)
        sales_manager = user("Sales Manager", "sales_management", sales_manager_role, cro, region)
        for _ in range(_team_size(core_leads * share, 6_000)):
            rep = user(
                "Sales Development Representative",
                "sales_development",
                sdr_role,
                sdr_manager,
                region,
            )
            rep_rows.append((rep, SALESFORCE, SDR, regions.index(region), True))
        for _ in range(_team_size(core_leads * share, 9_000)):
            rep = user("Account Executive", "sales", ae_role, sales_manager, region)
            rep_rows.append((rep, SALESFORCE, AE, regions.index(region), True))
        if region == home:
            # A rep hired three weeks before the export: on the team, no deals yet.
            rep = user("Account Executive", "sales", ae_role, sales_manager, region, new_hire)
            rep_rows.append((rep, SALESFORCE, AE, regions.index(region), False))

    velocity_leads = config.n_leads * (1 - config.salesforce_share)
    for number, (team_name, function, region) in enumerate(definitions.hubspot_teams):
        team_id = numeric_id(7_000_001 + number)
        org.hs_teams.append({"id": team_id, "name": team_name})
        if function == "sales_development":
            size = _team_size(velocity_leads / 2, 6_000)
        elif function == "sales":
            size = _team_size(velocity_leads / 2, 9_000)
        else:
            size = 2
        for _ in range(size):
            first, last = person()
            owner_id = numeric_id(5_000_001 + len(org.hs_owners))
            org.hs_owners.append(
                {
                    "owner_id": owner_id,
                    "email": f"{first}.{last}{owner_id}@{ORG_DOMAIN}".lower(),
                    "first_name": first,
                    "last_name": last,
                    "user_id": numeric_id(9_100_001 + len(org.hs_owners)),
                    "is_active": True,
                    "created_at": start,
                    "updated_at": start,
                    "department": department.get(function, function),
                }
            )
            org.hs_owner_teams.append(
                {"owner_id": owner_id, "team_id": team_id, "is_team_primary": True}
            )
            if function == "marketing" and not org.hubspot_marketing_owner:
                org.hubspot_marketing_owner = owner_id
            if function in ("sales_development", "sales") and region in regions:
                kind = SDR if function == "sales_development" else AE
                rep_rows.append((owner_id, HUBSPOT, kind, regions.index(region), True))

    region_of = np.array([row[3] for row in rep_rows])
    speed = np.array([REGION_SPEED.get(regions[index], 1.0) for index in region_of])
    org.reps = Reps(
        ids=np.array([row[0] for row in rep_rows], dtype=object),
        crm=np.array([row[1] for row in rep_rows]),
        function=np.array([row[2] for row in rep_rows]),
        region=region_of,
        median_minutes=np.exp(rng.normal(np.log(75), 0.6, len(rep_rows))) * speed,
        p_untouched=rng.uniform(0.01, 0.09, len(rep_rows)),
        assignable=np.array([row[4] for row in rep_rows]),
    )
    return org
