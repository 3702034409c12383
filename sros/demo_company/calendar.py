"""Business-hours arithmetic per sales region, vectorised with numpy.

A region's calendar is the list of its open intervals in UTC epoch seconds (weekday opening
hours in the region's local time zone, so DST is handled by zoneinfo, minus its holidays).
Mapping a timestamp to its "business second" position on that calendar turns both questions
the SLA needs into array arithmetic:

- `add_minutes(t, m)`: the wall-clock time `m` business minutes after `t` (a lead arriving on
  Friday night with m = 10 is touched on Monday at opening + 10 minutes);
- `minutes_between(a, b)`: business minutes from `a` to `b`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from sros.demo_company.seeds import RegionHours


class BusinessCalendar:
    """Open intervals of one region between two dates (extend the range generously: times
    outside it are clamped to its ends)."""

    def __init__(self, hours: RegionHours, first_day: date, last_day: date) -> None:
        zone = ZoneInfo(hours.time_zone)
        opens: list[int] = []
        closes: list[int] = []
        day = first_day
        while day <= last_day:
            window = hours.hours.get(day.isoweekday())
            if window is not None and day not in hours.holidays:
                start = datetime.combine(day, window[0], tzinfo=zone).astimezone(UTC)
                end = datetime.combine(day, window[1], tzinfo=zone).astimezone(UTC)
                opens.append(int(start.timestamp()))
                closes.append(int(end.timestamp()))
            day += timedelta(days=1)
        self.opens = np.asarray(opens, dtype=np.int64)
        durations = np.asarray(closes, dtype=np.int64) - self.opens
        self.cum_start = np.concatenate([[0], np.cumsum(durations)[:-1]]).astype(np.int64)
        self.cum_end = self.cum_start + durations
        self.durations = durations

    def position(self, t: np.ndarray) -> np.ndarray:
        """Business seconds elapsed on this calendar up to each UTC epoch second in `t`."""
        index = np.searchsorted(self.opens, t, side="right") - 1
        before = index < 0
        index = np.clip(index, 0, len(self.opens) - 1)
        inside = np.clip(t - self.opens[index], 0, self.durations[index])
        return np.where(before, 0, self.cum_start[index] + inside)

    def add_minutes(self, t: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        """Wall-clock UTC epoch seconds `minutes` business minutes (> 0) after `t`."""
        target = self.position(t) + np.round(np.asarray(minutes) * 60).astype(np.int64)
        index = np.clip(np.searchsorted(self.cum_end, target, side="left"), 0, len(self.opens) - 1)
        return self.opens[index] + np.clip(target - self.cum_start[index], 0, None)

    def minutes_between(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Business minutes from `start` to `end` (float)."""
        return (self.position(end) - self.position(start)) / 60.0


class RegionCalendars:
    """One calendar per region code, applied to arrays holding a region index per row."""

    def __init__(self, regions: list[str], hours: dict[str, RegionHours], first: date, last: date):
        self.regions = regions
        self.calendars = [BusinessCalendar(hours[region], first, last) for region in regions]

    def add_minutes(self, region: np.ndarray, t: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        out = np.zeros(len(t), dtype=np.int64)
        minutes = np.broadcast_to(np.asarray(minutes, dtype=float), t.shape)
        for index, calendar in enumerate(self.calendars):
            rows = region == index
            out[rows] = calendar.add_minutes(t[rows], minutes[rows])
        return out

    def minutes_between(self, region: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        out = np.zeros(len(start), dtype=float)
        for index, calendar in enumerate(self.calendars):
            rows = region == index
            out[rows] = calendar.minutes_between(start[rows], end[rows])
        return out
