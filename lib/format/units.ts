/**
 * Human-readable sizes, durations and times the way podman prints and parses them (docker/go-units,
 * Go's `time` package, podman's `util.ParseInputTime`). The durations and times are lib/format/time.ts,
 * re-exported here. Durations are milliseconds (JS numbers).
 * @module
 */

import { formatFloat } from "./gofmt.ts";

export {
  formatGoDuration,
  humanDuration,
  parseGoDuration,
  parseInputTime,
  timeAgo,
  type TimeInput,
  toMs,
} from "./time.ts";

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]];
}

/**
 * go-units `HumanSizeWithPrecision`: decimal units, `%.*g` significant digits, e.g. `1.23 MB`,
 * `5.12 kB`, `999 B` (podman's image sizes use precision 3).
 */
export function humanSize(size: number, precision = 4): string {
  const [v, unit] = sizeAndUnit(size, 1000, DECIMAL_UNITS);
  return `${formatFloat(v, "g", precision)} ${unit}`;
}

/** go-units `BytesSize`: binary units with 4 significant digits, e.g. `1.5 MiB`. */
export function bytesSize(size: number): string {
  const [v, unit] = sizeAndUnit(size, 1024, BINARY_UNITS);
  return `${formatFloat(v, "g", 4)} ${unit}`;
}

export { fromHumanSize, ramInBytes } from "./size_parse.ts";
