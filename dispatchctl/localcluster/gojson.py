"""The words of Go's encoding/json, for the error messages the API server passes on.

Python's json module finds the same mistakes but says them differently. ``syntax_error`` runs
the state machine of Go's src/encoding/json/scanner.go (sigs.k8s.io/json, which the API server
decodes with, keeps it) over the bytes and returns its message ("invalid character 'n' looking
for beginning of object key string", "unexpected end of JSON input"), or None for valid JSON.
``kind`` names a value as UnmarshalTypeError does ("array", "string", "number", ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_SPACE = b" \t\r\n"
_DIGITS = b"0123456789"
_HEX = b"0123456789abcdefABCDEF"
_MAX_DEPTH = 10000

# parse stack entries (scanner.go parseObjectKey, parseObjectValue, parseArrayValue)
_KEY, _VALUE, _ARRAY = 0, 1, 2


class _Error(Exception):
    pass


def kind(value: Any) -> str:
    """UnmarshalTypeError.Value for a decoded JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "number"


def quote_char(byte: int) -> str:
    """scanner.go quoteChar: the byte as a Go character literal."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    return "'" + quote_rune(chr(byte)) + "'"


def quote_rune(char: str) -> str:
    """strconv.Quote of one rune, without the double quotes."""
    code = ord(char)
    escapes = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
    if code in escapes:
        return escapes[code]
    if char == "\\":
        return "\\\\"
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if char.isprintable():
        return char
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def syntax_error(data: bytes) -> str | None:
    """The SyntaxError json.Unmarshal reports for data, or None when data is valid JSON."""
    scanner = _Scanner()
    try:
        for byte in data:
            scanner.step(byte)
        scanner.end()
    except _Error as err:
        return str(err)
    return None


class _Scanner:
    def __init__(self) -> None:
        self.stack: list[int] = []
        self.step: Callable[[int], None] = self._begin_value

    def end(self) -> None:
        """scanner.eof: the input ends as if a space followed; a complete value remains."""
        try:
            self.step(ord(" "))
        except _Error:
            raise _Error("unexpected end of JSON input") from None
        if self.step != self._end_top:
            raise _Error("unexpected end of JSON input")

    def _fail(self, byte: int, context: str) -> None:
        raise _Error(f"invalid character {quote_char(byte)} {context}")

    # values
    def _begin_value_or_empty(self, byte: int) -> None:
        if byte in _SPACE:
            return
        if byte == ord("]"):
            self._end_value(byte)
            return
        self._begin_value(byte)

    def _begin_value(self, byte: int) -> None:
        if byte in _SPACE:
            return
        if byte == ord("{"):
            self._push(_KEY)
            self.step = self._begin_string_or_empty
        elif byte == ord("["):
            self._push(_ARRAY)
            self.step = self._begin_value_or_empty
        elif byte == ord('"'):
            self.step = self._in_string
        elif byte == ord("-"):
            self.step = self._neg
        elif byte == ord("0"):
            self.step = self._state0
        elif byte in b"123456789":
            self.step = self._state1
        elif byte == ord("t"):
            self.step = self._literal("true", 1)
        elif byte == ord("f"):
            self.step = self._literal("false", 1)
        elif byte == ord("n"):
            self.step = self._literal("null", 1)
        else:
            self._fail(byte, "looking for beginning of value")

    def _push(self, kind_: int) -> None:
        self.stack.append(kind_)
        if len(self.stack) > _MAX_DEPTH:
            raise _Error("exceeded max depth")

    def _begin_string_or_empty(self, byte: int) -> None:
        if byte in _SPACE:
            return
        if byte == ord("}"):
            self.stack[-1] = _VALUE
            self._end_value(byte)
            return
        self._begin_string(byte)

    def _begin_string(self, byte: int) -> None:
        if byte in _SPACE:
            return
        if byte == ord('"'):
            self.step = self._in_string
            return
        self._fail(byte, "looking for beginning of object key string")

    def _end_value(self, byte: int) -> None:
        if not self.stack:
            self.step = self._end_top
            self._end_top(byte)
            return
        if byte in _SPACE:
            self.step = self._end_value
            return
        top = self.stack[-1]
        if top == _KEY:
            if byte == ord(":"):
                self.stack[-1] = _VALUE
                self.step = self._begin_value
                return
            self._fail(byte, "after object key")
        if top == _VALUE:
            if byte == ord(","):
                self.stack[-1] = _KEY
                self.step = self._begin_string
                return
            if byte == ord("}"):
                self._pop()
                return
            self._fail(byte, "after object key:value pair")
        if byte == ord(","):
            self.step = self._begin_value
            return
        if byte == ord("]"):
            self._pop()
            return
        self._fail(byte, "after array element")

    def _pop(self) -> None:
        self.stack.pop()
        self.step = self._end_value if self.stack else self._end_top

    def _end_top(self, byte: int) -> None:
        if byte not in _SPACE:
            self._fail(byte, "after top-level value")

    # strings
    def _in_string(self, byte: int) -> None:
        if byte == ord('"'):
            self.step = self._end_value
        elif byte == ord("\\"):
            self.step = self._in_string_escape
        elif byte < 0x20:
            self._fail(byte, "in string literal")

    def _in_string_escape(self, byte: int) -> None:
        if byte in b'bfnrt\\/"':
            self.step = self._in_string
        elif byte == ord("u"):
            self.step = self._unicode(0)
        else:
            self._fail(byte, "in string escape code")

    def _unicode(self, seen: int) -> Callable[[int], None]:
        def step(byte: int) -> None:
            if byte not in _HEX:
                self._fail(byte, "in \\u hexadecimal character escape")
            self.step = self._in_string if seen == 3 else self._unicode(seen + 1)

        return step

    # numbers
    def _neg(self, byte: int) -> None:
        if byte == ord("0"):
            self.step = self._state0
        elif byte in b"123456789":
            self.step = self._state1
        else:
            self._fail(byte, "in numeric literal")

    def _state1(self, byte: int) -> None:
        if byte in _DIGITS:
            return
        self._state0(byte)

    def _state0(self, byte: int) -> None:
        if byte == ord("."):
            self.step = self._dot
        elif byte in b"eE":
            self.step = self._e
        else:
            self._end_value(byte)

    def _dot(self, byte: int) -> None:
        if byte in _DIGITS:
            self.step = self._dot0
        else:
            self._fail(byte, "after decimal point in numeric literal")

    def _dot0(self, byte: int) -> None:
        if byte in _DIGITS:
            return
        if byte in b"eE":
            self.step = self._e
        else:
            self._end_value(byte)

    def _e(self, byte: int) -> None:
        if byte in b"+-":
            self.step = self._e_sign
            return
        self._e_sign(byte)

    def _e_sign(self, byte: int) -> None:
        if byte in _DIGITS:
            self.step = self._e0
        else:
            self._fail(byte, "in exponent of numeric literal")

    def _e0(self, byte: int) -> None:
        if byte not in _DIGITS:
            self._end_value(byte)

    # true, false, null
    def _literal(self, word: str, index: int) -> Callable[[int], None]:
        def step(byte: int) -> None:
            expected = word[index]
            if byte != ord(expected):
                self._fail(byte, f"in literal {word} (expecting {quote_char(ord(expected))})")
            self.step = (
                self._end_value if index + 1 == len(word) else self._literal(word, index + 1)
            )

        return step
