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


# --- time.Parse of metav1.Time (RFC3339) and metav1.MicroTime (RFC3339Micro) JSON -------------

RFC3339 = "2006-01-02T15:04:05Z07:00"
RFC3339_MICRO = "2006-01-02T15:04:05.000000Z07:00"
# the layout's chunks as format.go nextStdChunk cuts them: (literal prefix, std element)
_DATE_TIME = [("", "2006"), ("-", "01"), ("-", "02"), ("T", "15"), (":", "04"), (":", "05")]
_CHUNKS = {
    False: [*_DATE_TIME, ("", "Z07:00")],
    True: [*_DATE_TIME, ("", ".000000"), ("", "Z07:00")],
}


class ParseError(Exception):
    """time.ParseError, with its Error() text."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_rfc3339(value: str, micro: bool) -> str:
    """time.Parse(RFC3339 or RFC3339Micro, value), printed back as MarshalJSON does."""
    layout = RFC3339_MICRO if micro else RFC3339
    rest = value
    fields = {"2006": 0, "01": 0, "02": 0, "15": 0, "04": 0, "05": 0}
    nanos, offset = 0, 0  # metav1.Time keeps whole seconds; only MicroTime reads a fraction

    def fail(elem: str, at: str, message: str = "") -> ParseError:
        if message:
            return ParseError(f"parsing time {_quote(value)}{message}")
        return ParseError(
            f"parsing time {_quote(value)} as {_quote(layout)}: cannot parse {_quote(at)} as "
            f"{_quote(elem)}"
        )

    for prefix, elem in _CHUNKS[micro]:
        if not rest.startswith(prefix):
            raise fail(prefix, rest)
        rest = rest[len(prefix) :]
        hold = rest
        bad = False
        out_of_range = ""
        if elem == "2006":
            bad = len(rest) < 4 or not rest[0].isdigit() or not rest[:4].isdigit()
            if not bad:
                fields[elem], rest = int(rest[:4]), rest[4:]
        elif elem in ("01", "02", "15", "04", "05"):
            number = _getnum(rest, fixed=elem != "15")
            if number is None:
                bad = True
            else:
                fields[elem], rest = number
                limit = {"01": (1, 12), "15": (0, 23), "04": (0, 59), "05": (0, 59)}.get(elem)
                names = {"01": "month", "15": "hour", "04": "minute", "05": "second"}
                if limit and not limit[0] <= fields[elem] <= limit[1]:
                    out_of_range = names[elem]
                elif elem == "05" and not micro and rest[:1] in (".", ",") and rest[1:2].isdigit():
                    digits = 2  # a fraction the layout does not have: read and dropped
                    while digits < len(rest) and rest[digits].isdigit():
                        digits += 1
                    rest = rest[digits:]
        elif elem == ".000000":
            if len(rest) < 7 or rest[0] not in ".," or not rest[1:7].isdigit():
                bad = True
            else:
                nanos, rest = int(rest[1:7]) * 1000, rest[7:]
        elif rest[:1] == "Z":
            rest = rest[1:]
        elif len(rest) < 6 or rest[3] != ":" or rest[0] not in "+-":
            bad = True
        else:
            hours, minutes = _getnum(rest[1:3], True), _getnum(rest[4:6], True)
            if hours is None or minutes is None:
                bad = True
            else:
                if hours[0] > 24:
                    out_of_range = "time zone offset hour"
                elif minutes[0] > 60:
                    out_of_range = "time zone offset minute"
                offset = (hours[0] * 60 + minutes[0]) * 60 * (-1 if rest[0] == "-" else 1)
                rest = rest[6:]
        if out_of_range:
            raise fail("", "", f": {out_of_range} out of range")
        if bad:
            raise fail(elem, hold)
    if rest:
        raise fail("", "", f": extra text: {_quote(rest)}")
    year, month, day = fields["2006"], fields["01"], fields["02"]
    if not 1 <= day <= _days_in(month, year):
        raise fail("", "", ": day out of range")
    seconds = (
        _days_from_civil(year, month, day) * _DAY
        + fields["15"] * 3600
        + fields["04"] * 60
        + fields["05"]
        - offset
    )
    return format_rfc3339(seconds, nanos if micro else 0, micro)


def _getnum(text: str, fixed: bool) -> tuple[int, str] | None:
    """format.go getnum: one or two digits (two when fixed)."""
    if not text[:1].isdigit():
        return None
    if not text[1:2].isdigit():
        return None if fixed else (int(text[0]), text[1:])
    return int(text[:2]), text[2:]


def _days_in(month: int, year: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, 0 included)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468
