"""The knobs of the demo company: scale, seed, date range, mixes and the dirty-data switches.

Both dataclasses are frozen and serialise to plain JSON (`as_dict`), which is what the
manifest stores to decide whether a previous run can be reused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

# The smallest company the generator makes (below it, whole populations round to nothing).
MIN_LEADS = 100
# The smallest company `sros demo` builds: from here every landing table gets rows. Measured on
# seeds 0-49: at 700 leads every table had rows for every seed; at 600 one seed had no HubSpot
# deal or engagement, at 500 one in 20, at 100 one in two. Until a raw table with no file is
# created empty (the contract), an empty table fails the dbt build.
MIN_DEMO_LEADS = 700


@dataclass(frozen=True)
class DirtyConfig:
    """Which kinds of dirt to inject into the exports. All off: the main job runs clean."""

    duplicates: bool = False
    late_rows: bool = False
    soft_deletes: bool = False
    merged_contacts: bool = False
    unmapped_values: bool = False
    malformed_rows: bool = False

    @classmethod
    def all_on(cls) -> DirtyConfig:
        return cls(True, True, True, True, True, True)

    @property
    def any(self) -> bool:
        return any(asdict(self).values())


def _mix(**shares: float) -> tuple[tuple[str, float], ...]:
    return tuple(shares.items())


@dataclass(frozen=True)
class DemoConfig:
    """Parameters of one generated company. Mixes are (key, share) pairs; shares need not sum
    to 1 (they are normalised). `end_date` is the "as of" date: nothing after it is exported."""

    n_leads: int = 10_000
    seed: int = 42
    start_date: date = date(2024, 10, 1)
    end_date: date = date(2026, 9, 30)
    dirty: DirtyConfig = field(default_factory=DirtyConfig)
    # Share of leads in the Salesforce business unit "core"; the rest are HubSpot "velocity".
    salesforce_share: float = 0.7
    # Segment mix of core accounts (velocity accounts are mostly small businesses).
    segments: tuple[tuple[str, float], ...] = _mix(smb=0.35, mid_market=0.45, enterprise=0.20)
    velocity_segments: tuple[tuple[str, float], ...] = _mix(smb=0.85, mid_market=0.15)
    # Territory (sales region, a business_hours key) mix of core accounts.
    regions: tuple[tuple[str, float], ...] = _mix(
        na_east=0.30, na_west=0.20, uk_ireland=0.20, dach=0.18, anz=0.12
    )
    # Probability that a closed new-business opportunity is won, by segment.
    win_rates: tuple[tuple[str, float], ...] = _mix(smb=0.32, mid_market=0.25, enterprise=0.18)
    # Leads per account (buying groups: several people of one company arrive as leads).
    leads_per_account: float = 4.0
    # Sales-sourced (outbound) new-business opportunities per lead-sourced one (core only).
    outbound_ratio: float = 0.35
    # Yearly growth of lead volume (1.6 = +60% a year) and strength of seasonality (0-1).
    yearly_growth: float = 1.6
    seasonality: float = 0.25

    def as_dict(self) -> dict:
        data = asdict(self)
        data["start_date"] = self.start_date.isoformat()
        data["end_date"] = self.end_date.isoformat()
        for key in ("segments", "velocity_segments", "regions", "win_rates"):
            data[key] = dict(getattr(self, key))
        return data

    def __post_init__(self) -> None:
        if self.n_leads < MIN_LEADS:
            raise ValueError(f"n_leads must be at least {MIN_LEADS}, got {self.n_leads}")
        if self.end_date <= self.start_date:
            raise ValueError(f"end_date {self.end_date} must be after start_date {self.start_date}")
        if not 0 < self.salesforce_share <= 1:
            raise ValueError(f"salesforce_share must be in (0, 1], got {self.salesforce_share}")
