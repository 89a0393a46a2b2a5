import assert from "node:assert/strict";
import {
  bytesSize,
  formatGoDuration,
  fromHumanSize,
  humanDuration,
  humanSize,
  parseGoDuration,
  parseInputTime,
  ramInBytes,
  timeAgo,
} from "../../lib/format/units.ts";
import { psStatus } from "../../lib/cli/views/ps.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

Deno.test("units: humanSize (go-units HumanSizeWithPrecision, decimal)", () => {
  assert.equal(humanSize(0, 3), "0 B");
  assert.equal(humanSize(999, 3), "999 B");
  assert.equal(humanSize(1000, 3), "1 kB");
  assert.equal(humanSize(5120, 3), "5.12 kB");
  assert.equal(humanSize(1_234_567, 3), "1.23 MB");
  assert.equal(humanSize(999_999, 3), "1e+03 kB"); // %.3g of 999.999, exactly as Go prints it
  assert.equal(humanSize(4_404_019, 3), "4.4 MB");
  assert.equal(humanSize(77_800_000, 3), "77.8 MB");
  assert.equal(humanSize(1e9), "1 GB");
  assert.equal(humanSize(1_234_567), "1.235 MB");
  assert.equal(humanSize(1e30, 3), "1e+06 YB");
  assert.equal(bytesSize(1536), "1.5 KiB");
  assert.equal(bytesSize(1024 * 1024 * 3.25), "3.25 MiB");
  assert.equal(bytesSize(100), "100 B");
});

Deno.test("units: size parsing", () => {
  assert.equal(fromHumanSize("32"), 32);
  assert.equal(fromHumanSize("32b"), 32);
  assert.equal(fromHumanSize("32kb"), 32_000);
  assert.equal(fromHumanSize("32 MB"), 32_000_000);
  assert.equal(ramInBytes("1g"), 1024 ** 3);
  assert.equal(ramInBytes("512m"), 512 * 1024 ** 2);
  assert.equal(ramInBytes("1.5k"), 1536);
  assert.throws(() => ramInBytes("abc"), /invalid size/);
  assert.throws(() => ramInBytes("-1"), /invalid size/);
});

Deno.test("units: humanDuration (go-units)", () => {
  const cases: [number, string][] = [
    [-5 * S, "Less than a second"],
    [0, "Less than a second"],
    [999, "Less than a second"],
    [1 * S, "1 second"],
    [1999, "1 second"],
    [2 * S, "2 seconds"],
    [59 * S, "59 seconds"],
    [60 * S, "About a minute"],
    [119 * S, "About a minute"],
    [2 * M, "2 minutes"],
    [59 * M, "59 minutes"],
    [60 * M, "About an hour"],
    [89 * M, "About an hour"],
    [90 * M, "2 hours"],
    [3 * H, "3 hours"],
    [47 * H, "47 hours"],
    [48 * H, "2 days"],
    [13 * D, "13 days"],
    [14 * D, "2 weeks"],
    [21 * D, "3 weeks"],
    [59 * D, "8 weeks"],
    [60 * D, "2 months"],
    [120 * D, "4 months"],
    [729 * D, "24 months"],
    [730 * D, "2 years"],
    [3 * 365 * D, "3 years"],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

Deno.test("units: ago and ps status", () => {
  const now = Date.UTC(2024, 5, 1, 12, 0, 0);
  assert.equal(timeAgo(now - 5 * M, now), "5 minutes ago");
  assert.equal(timeAgo(new Date(now - 3 * H), now), "3 hours ago");
  assert.equal(timeAgo(new Date(now - 2 * S).toISOString(), now), "2 seconds ago");
  assert.equal(psStatus({ state: "running", startedAt: now - 3 * M, now }), "Up 3 minutes");
  assert.equal(psStatus({ state: "running", startedAt: now, now }), "Up Less than a second");
  assert.equal(
    psStatus({ state: "exited", exitedAt: now - 2 * S, exitCode: 0, now }),
    "Exited (0) 2 seconds ago",
  );
  assert.equal(
    psStatus({ state: "stopped", exitedAt: now - 2 * H, exitCode: 137, now }),
    "Exited (137) 2 hours ago",
  );
  assert.equal(psStatus({ state: "created", now }), "Created");
  assert.equal(psStatus({ state: "configured", now }), "Created");
  assert.equal(psStatus({ state: "paused", now }), "Paused");
  assert.equal(
    psStatus({ state: "running", startedAt: now - 10 * M, health: "healthy", now }),
    "Up 10 minutes (healthy)",
  );
});

Deno.test("units: Go durations", () => {
  assert.equal(parseGoDuration("10m"), 10 * M);
  assert.equal(parseGoDuration("1h30m"), 90 * M);
  assert.equal(parseGoDuration("90s"), 90 * S);
  assert.equal(parseGoDuration("1.5h"), 90 * M);
  assert.equal(parseGoDuration("-2m"), -2 * M);
  assert.equal(parseGoDuration("300ms"), 300);
  assert.equal(parseGoDuration("1500us"), 1.5);
  assert.equal(parseGoDuration("1µs"), 0.001);
  assert.equal(parseGoDuration("0"), 0);
  assert.equal(parseGoDuration(".5s"), 500);
  assert.throws(() => parseGoDuration(""), /time: invalid duration ""/);
  assert.throws(() => parseGoDuration("10"), /time: missing unit in duration "10"/);
  assert.throws(() => parseGoDuration("10x"), /time: unknown unit "x" in duration "10x"/);
  assert.throws(() => parseGoDuration("h"), /time: invalid duration "h"/);
  assert.equal(formatGoDuration(0), "0s");
  assert.equal(formatGoDuration(90 * M), "1h30m0s");
  assert.equal(formatGoDuration(1500), "1.5s");
  assert.equal(formatGoDuration(500), "500ms");
  assert.equal(formatGoDuration(0.0015), "1.5µs");
  assert.equal(formatGoDuration(-61 * S), "-1m1s");
  assert.equal(formatGoDuration(30 * S), "30s");
  assert.equal(formatGoDuration(26 * H + 3 * M + 4.5 * S), "26h3m4.5s");
});

Deno.test("units: --since/--until input times", () => {
  const now = Date.UTC(2024, 5, 1, 12, 0, 0);
  const iso = (s: string) => parseInputTime(s, true, now).toISOString();
  assert.equal(iso("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05.000Z");
  assert.equal(iso("2024-01-02T03:04:05.123456789Z"), "2024-01-02T03:04:05.123Z");
  assert.equal(iso("2024-01-02T03:04:05+00:00"), "2024-01-02T03:04:05.000Z");
  assert.equal(iso("2024-01-02T03:04:05+02:00"), "2024-01-02T01:04:05.000Z");
  assert.equal(iso("2024-01-02T03:04:05-01:30"), "2024-01-02T04:34:05.000Z");
  assert.equal(iso("2024-01-02T03:04:05"), "2024-01-02T03:04:05.000Z");
  assert.equal(iso("2024-01-02"), "2024-01-02T00:00:00.000Z");
  assert.equal(iso("2024-01-02+01:00"), "2024-01-01T23:00:00.000Z");
  assert.equal(iso("1700000000"), "2023-11-14T22:13:20.000Z");
  assert.equal(iso("1700000000.5"), "2023-11-14T22:13:20.500Z");
  assert.equal(iso("10m"), new Date(now - 10 * M).toISOString());
  assert.equal(iso("1h30m"), new Date(now - 90 * M).toISOString());
  assert.equal(iso("90s"), new Date(now - 90 * S).toISOString());
  assert.equal(parseInputTime("1h", false, now).toISOString(), new Date(now + H).toISOString());
  assert.throws(() => iso("yesterday"), /unable to interpret time value/);
  assert.throws(() => iso("2024-02-30"), /unable to interpret time value/);
  assert.throws(() => iso("2024-13-01T00:00:00Z"), /unable to interpret time value/);
  assert.equal(iso("2024-02-29"), "2024-02-29T00:00:00.000Z");
});
