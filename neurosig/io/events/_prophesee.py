"""Shared parts of the Prophesee RAW formats (EVT 2.0 and EVT 3.0): header probing and writing."""

from __future__ import annotations

from pathlib import Path

from neurosig.core.errors import FormatError
from neurosig.io.events._common import FileHeader, check_sensor_size, parse_percent_header, prophesee_sensor

__all__ = ["probe_raw", "raw_header_text", "ADDRESS_LIMIT"]

#: EVT 2.0 and 3.0 address 11 bits per axis.
ADDRESS_LIMIT = 2048


def probe_raw(path: Path, fmt: str, sensor_size=None) -> FileHeader:
    """Parse a RAW file's header; the sensor size comes from ``sensor_size``, the header or the model."""
    fields, offset = parse_percent_header(path)
    if not fields:
        raise FormatError(
            f"no Prophesee '%' header found; expected lines such as '% evt {fmt[-1]}.0' before the data.",
            path=path,
            offset=0,
        )
    if sensor_size is not None:
        size, origin = check_sensor_size(sensor_size, ADDRESS_LIMIT, fmt), "argument"
    else:
        size, origin = prophesee_sensor(fields, path) or ((ADDRESS_LIMIT, ADDRESS_LIMIT, 2), "format default")
    return FileHeader(fmt, offset, size, origin, fields)


def raw_header_text(fmt: str, sensor_size: tuple[int, int, int]) -> str:
    """The header neurosig writes: version, geometry in both spellings, and an explicit end."""
    width, height = sensor_size[:2]
    version = {"evt2": "2.0", "evt3": "3.0"}[fmt]
    return (
        f"% evt {version}\n% format {fmt.upper()};height={height};width={width}\n"
        f"% geometry {width}x{height}\n% integrator_name neurosig\n% end\n"
    )
