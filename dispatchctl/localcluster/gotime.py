"""A protobuf Timestamp as the API server prints it back: Go's time package, overflow included.

A protobuf body may carry any int64 seconds. metav1.Time.Unmarshal keeps the seconds
(time.Unix(p.Seconds, 0)) and metav1.MicroTime.Unmarshal the nanoseconds truncated to
microseconds (apimachinery pkg/apis/meta/v1/time_proto.go, micro_time_proto.go); neither checks
a range, and MarshalJSON formats whatever results with AppendFormat (RFC 3339). The real server
accepts year 10000 or year 292277026596 and writes it so. Python's datetime stops at year 9999,
so the date is computed here as Go's src/time/time.go does (absSeconds.days, absDays.split,
absYday.split, absCentury.year: unsigned 64-bit arithmetic that wraps) and printed as
format.go appendInt does (a year of at least 4 digits, "-" before a negative one).
"""

from __future__ import annotations

_U64 = (1 << 64) - 1
_DAY = 86400
_ABSOLUTE_YEARS = 292277022400  # time.go absoluteYears
_MARCH_THRU_DECEMBER = 306
# absoluteToInternal = -(absoluteYears*365.2425 + marchThruDecember) * secondsPerDay, exactly
_ABSOLUTE_TO_INTERNAL = -((_ABSOLUTE_YEARS * 3652425 // 10000 + _MARCH_THRU_DECEMBER) * _DAY)
_UNIX_TO_INTERNAL = (1969 * 365 + 1969 // 4 - 1969 // 100 + 1969 // 400) * _DAY
_UNIX_TO_ABSOLUTE = _UNIX_TO_INTERNAL - _ABSOLUTE_TO_INTERNAL
ZERO_UNIX = -_UNIX_TO_INTERNAL  # time.Time{}: January 1, year 1, which JSON writes as null


def int64(value: int) -> int:
    value &= _U64
    return value - (1 << 64) if value >> 63 else value


def _quotient(a: int, b: int) -> int:
    """Go's integer division: truncated toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def unix(seconds: int, nanos: int) -> tuple[int, int]:
    """time.Unix: nanoseconds brought into [0, 1e9), seconds wrapping as an int64."""
    if nanos < 0 or nanos >= 10**9:
        carry = _quotient(nanos, 10**9)
        seconds, nanos = int64(seconds + carry), nanos - carry * 10**9
        if nanos < 0:
            seconds, nanos = int64(seconds - 1), nanos + 10**9
    return seconds, nanos


def format_rfc3339(seconds: int, nanos: int, micro: bool) -> str:
    """Time.UTC().Format(RFC3339) (Time) or Format(RFC3339Micro) (MicroTime)."""
    absolute = (seconds + _UNIX_TO_ABSOLUTE) & _U64
    days, clock = divmod(absolute, _DAY)
    d = (4 * days + 3) & _U64
    century = d // 146097
    product = 2939745 * (((d % 146097) | 3) & 0xFFFFFFFF)
    cyear, ayday = product >> 32, (product & 0xFFFFFFFF) // 2939745 // 4
    month_day = (2141 * ayday + 197913) & 0xFFFFFFFF
    month, day = month_day >> 16, 1 + (month_day & 0xFFFF) // 2141
    jan_feb = 1 if ayday >= _MARCH_THRU_DECEMBER else 0
    year = int64(int64(century * 100 - _ABSOLUTE_YEARS) + cyear + jan_feb)
    month -= jan_feb * 12
    text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
    text += f"-{month:02d}-{day:02d}T{clock // 3600:02d}:{clock % 3600 // 60:02d}:{clock % 60:02d}"
    if micro:
        text += f".{nanos // 1000:06d}"
    return text + "Z"


def from_timestamp(seconds: int, nanos: int, micro: bool) -> str | None:
    """The JSON text of a Timestamp message's value; None for Go's zero time (null)."""
    # MicroTime: time.Duration(p.Nanos).Truncate(time.Microsecond); Time drops them
    nanos = _quotient(nanos, 1000) * 1000 if micro else 0
    seconds, nanos = unix(seconds, nanos)
    if seconds == ZERO_UNIX and nanos == 0:
        return None
    return format_rfc3339(seconds, nanos, micro)
