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

from collections.abc import Callable

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


# a std element's reader: (the text at it, micro) -> (its value, the text after it)
_Element = Callable[[str, bool], tuple[int, str]]


class ParseError(Exception):
    """time.ParseError, with its Error() text."""


class _Unparsable(Exception):
    """The text at this element does not have the element's form."""


class _OutOfRange(Exception):
    """The element was read but is out of range; the argument names it as Go does."""


def _quote(text: str) -> str:
    """format.go quote: '"' and '\\' escaped, and a control or non-ASCII character written as
    the \\x escapes of its UTF-8 bytes (a lone surrogate is the U+FFFD Go's JSON made of it)."""
    out = ['"']
    for char in text:
        if char < " " or char >= "\x80":
            char = "\ufffd" if "\ud800" <= char <= "\udfff" else char
            out += [f"\\x{byte:02x}" for byte in char.encode()]
        else:
            out.append("\\" + char if char in '"\\' else char)
    return "".join(out) + '"'


def _digits(text: str) -> bool:
    """format.go isDigit: ASCII digits only (str.isdigit also takes "²" and "٣")."""
    return bool(text) and all("0" <= char <= "9" for char in text)


def parse_rfc3339(value: str, micro: bool) -> str:
    """time.Parse(RFC3339 or RFC3339Micro, value), printed back as MarshalJSON does."""
    layout = RFC3339_MICRO if micro else RFC3339
    read: dict[str, int] = {}
    rest = value
    for prefix, elem in _CHUNKS[micro]:
        if not rest.startswith(prefix):
            raise _cannot_parse(value, layout, rest, prefix)
        rest = rest[len(prefix) :]
        try:
            read[elem], rest = _ELEMENTS[elem](rest, micro)
        except _Unparsable:
            raise _cannot_parse(value, layout, rest, elem) from None
        except _OutOfRange as err:
            raise _failed(value, f"{err} out of range") from None
    if rest:
        raise _failed(value, f"extra text: {_quote(rest)}")
    year, month, day = read["2006"], read["01"], read["02"]
    if not 1 <= day <= _days_in(month, year):
        raise _failed(value, "day out of range")
    seconds = (
        _days_from_civil(year, month, day) * _DAY
        + read["15"] * 3600
        + read["04"] * 60
        + read["05"]
        - read["Z07:00"]
    )
    # metav1.Time keeps whole seconds; only MicroTime reads a fraction
    return format_rfc3339(seconds, read.get(".000000", 0), micro)


def _cannot_parse(value: str, layout: str, at: str, elem: str) -> ParseError:
    return ParseError(
        f"parsing time {_quote(value)} as {_quote(layout)}: cannot parse {_quote(at)} as "
        f"{_quote(elem)}"
    )


def _failed(value: str, why: str) -> ParseError:
    return ParseError(f"parsing time {_quote(value)}: {why}")


def _year(rest: str, micro: bool) -> tuple[int, str]:
    if len(rest) < 4 or not _digits(rest[:4]):
        raise _Unparsable
    return int(rest[:4]), rest[4:]


def _number(elem: str, bounds: tuple[int, int] | None, name: str) -> _Element:
    """A std element of one or two digits (two unless it is "15"), checked against bounds."""

    def read(rest: str, micro: bool) -> tuple[int, str]:
        got = _getnum(rest, fixed=elem != "15")
        if got is None:
            raise _Unparsable
        number, rest = got
        if bounds and not bounds[0] <= number <= bounds[1]:
            raise _OutOfRange(name)
        return number, rest

    return read


def _second(rest: str, micro: bool) -> tuple[int, str]:
    second, rest = _number("05", (0, 59), "second")(rest, micro)
    if not micro and rest[:1] in (".", ",") and _digits(rest[1:2]):
        digits = 2  # a fraction the layout does not have: read and dropped
        while digits < len(rest) and _digits(rest[digits]):
            digits += 1
        rest = rest[digits:]
    return second, rest


def _fraction(rest: str, micro: bool) -> tuple[int, str]:
    """.000000: exactly six digits after "." or ","; the nanoseconds."""
    if len(rest) < 7 or rest[0] not in ".," or not _digits(rest[1:7]):
        raise _Unparsable
    return int(rest[1:7]) * 1000, rest[7:]


def _zone(rest: str, micro: bool) -> tuple[int, str]:
    """Z07:00: "Z" or ±hh:mm; the offset east of UTC in seconds."""
    if rest[:1] == "Z":
        return 0, rest[1:]
    if len(rest) < 6 or rest[3] != ":" or rest[0] not in "+-":
        raise _Unparsable
    hours, minutes = _getnum(rest[1:3], True), _getnum(rest[4:6], True)
    if hours is None or minutes is None:
        raise _Unparsable
    if hours[0] > 24:
        raise _OutOfRange("time zone offset hour")
    if minutes[0] > 60:
        raise _OutOfRange("time zone offset minute")
    offset = (hours[0] * 60 + minutes[0]) * 60 * (-1 if rest[0] == "-" else 1)
    return offset, rest[6:]


_ELEMENTS: dict[str, _Element] = {
    "2006": _year,
    "01": _number("01", (1, 12), "month"),
    "02": _number("02", None, "day"),  # checked against the month once both are read
    "15": _number("15", (0, 23), "hour"),
    "04": _number("04", (0, 59), "minute"),
    "05": _second,
    ".000000": _fraction,
    "Z07:00": _zone,
}


def _getnum(text: str, fixed: bool) -> tuple[int, str] | None:
    """format.go getnum: one or two digits (two when fixed)."""
    if not _digits(text[:1]):
        return None
    if not _digits(text[1:2]):
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
