/**
 * pod's test runner (`deno task test`; `deno task test:quick` for unit + integration only).
 *
 * Runs `deno test -A --no-check=remote` over `tests/unit`, `tests/integration`, `tests/stress` and
 * `tests/distrobox` (only the first two with `--quick`), streaming deno's output, then counts test cases from deno's JUnit report and prints as its last line
 * exactly `N passed, N failed`. Exit code 1 when anything failed (or deno test failed without a report).
 *
 * Counting: every test and every test step is a case; a test (or step) that has steps is not counted itself
 * (its steps are), unless it failed on its own (no failing step below it), which counts as one more failure.
 * Ignored tests are not counted. Module-level errors (a test file that does not load or type-check) make deno exit
 * non-zero with no failing case: that counts as 1 failure.
 *
 * Other arguments go to `deno test` (e.g. `--filter registry`, or paths to test instead of the default dirs).
 * As root, runs `scripts/setup-test-host.sh` first when the rootless test user is not set up.
 * @module
 */

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const TEST_USER = Deno.env.get("POD_TEST_USER") ?? "podtest";

/** One parsed JUnit test case. */
export interface JunitCase {
  /** Suite (file) name. */
  suite: string;
  /** Test name; steps are `parent > step`. */
  name: string;
  /** Outcome. */
  status: "passed" | "failed" | "skipped";
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    switch (e) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "quot":
        return '"';
      case "apos":
        return "'";
      case "amp":
        return "&";
      default:
        return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function attr(tag: string, name: string): string {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
  return m ? unescapeXml(m[1]) : "";
}

/** Parse deno's JUnit XML into test cases. */
export function parseJunit(xml: string): JunitCase[] {
  const cases: JunitCase[] = [];
  const suiteRe = /<testsuite\b([^>]*?)(\/>|>([\s\S]*?)<\/testsuite>)/g;
  let sm;
  while ((sm = suiteRe.exec(xml)) !== null) {
    const suite = attr(sm[1], "name");
    const body = sm[3] ?? "";
    const caseRe = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
    let cm;
    while ((cm = caseRe.exec(body)) !== null) {
      const inner = cm[3] ?? "";
      const status = /<(failure|error)\b/.test(inner)
        ? "failed"
        : /<skipped\b/.test(inner)
        ? "skipped"
        : "passed";
      cases.push({ suite, name: attr(cm[1], "name"), status });
    }
  }
  return cases;
}

/** Count cases as described in the module doc. */
export function countCases(
  cases: JunitCase[],
): { passed: number; failed: number; skipped: number; failures: string[] } {
  let passed = 0, failed = 0, skipped = 0;
  const failures: string[] = [];
  const bySuite = new Map<string, JunitCase[]>();
  for (const c of cases) {
    const l = bySuite.get(c.suite) ?? [];
    l.push(c);
    bySuite.set(c.suite, l);
  }
  for (const [suite, list] of bySuite) {
    for (const c of list) {
      const prefix = `${c.name} > `;
      const children = list.filter((o) => o.name.startsWith(prefix));
      if (c.status === "skipped") {
        skipped++;
        continue;
      }
      if (children.length > 0) {
        // A parent: its steps count. It counts itself only when it failed and no step below it failed.
        if (c.status === "failed" && !children.some((o) => o.status === "failed")) {
          failed++;
          failures.push(`${suite}: ${c.name}`);
        }
        continue;
      }
      if (c.status === "failed") {
        failed++;
        failures.push(`${suite}: ${c.name}`);
      } else passed++;
    }
  }
  return { passed, failed, skipped, failures };
}

async function hasTests(dir: string): Promise<boolean> {
  try {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory && await hasTests(p)) return true;
      if (e.isFile && /(^|[._])test\.(ts|tsx|mts|js|mjs|jsx)$/.test(e.name)) return true;
    }
  } catch {
    return false;
  }
  return false;
}

async function setupIfNeeded(): Promise<void> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return;
  const passwd = await Deno.readTextFile("/etc/passwd").catch(() => "");
  const subuid = await Deno.readTextFile("/etc/subuid").catch(() => "");
  const subgid = await Deno.readTextFile("/etc/subgid").catch(() => "");
  const has = (t: string) => t.split("\n").some((l) => l.startsWith(`${TEST_USER}:`));
  if (has(passwd) && has(subuid) && has(subgid)) return;
  console.log(`test.ts: setting up the rootless test user ${TEST_USER}`);
  const st = await new Deno.Command("bash", {
    args: [`${REPO}/scripts/setup-test-host.sh`, TEST_USER],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!st.success) {
    console.error("test.ts: warning: setup-test-host.sh failed; rootless tests may be skipped");
  }
}

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes("--quick");
  const rest = argv.filter((a) => a !== "--quick");
  // Paths given on the command line replace the default directories; flags go to deno test.
  const explicit: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith("-")) {
      explicit.push(a);
      continue;
    }
    flags.push(a);
    // flags that take a separate value (`--filter x`)
    if (
      /^--(filter|shuffle|reporter|coverage|seed|jobs|config|import-map|location)$/.test(a) &&
      i + 1 < rest.length
    ) {
      flags.push(rest[++i]);
    }
  }
  let targets: string[] = explicit;
  if (targets.length === 0) {
    const dirs = quick
      ? ["tests/unit", "tests/integration"]
      : ["tests/unit", "tests/integration", "tests/stress", "tests/distrobox"];
    targets = [];
    for (const d of dirs) if (await hasTests(`${REPO}/${d}`)) targets.push(d);
  }
  if (targets.length === 0) {
    console.log("no test files found");
    console.log("0 passed, 0 failed");
    return 0;
  }
  await setupIfNeeded();

  const tmp = await Deno.makeTempDir({ prefix: "pod-testrun-" });
  const junitPath = `${tmp}/junit.xml`;
  try {
    const args = ["test", "-A", "--no-check=remote", `--junit-path=${junitPath}`, ...flags, ...targets];
    console.log(`$ deno ${args.join(" ")}`);
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: REPO,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
      env: { DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    // Forward Ctrl-C / TERM to deno test so its own cleanups run.
    const forward = (sig: Deno.Signal) => () => {
      try {
        child.kill(sig);
      } catch {
        // gone
      }
    };
    const handlers: [Deno.Signal, () => void][] = [["SIGINT", forward("SIGINT")], [
      "SIGTERM",
      forward("SIGTERM"),
    ]];
    for (const [s, h] of handlers) Deno.addSignalListener(s, h);
    const status = await child.status;
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);

    let xml = "";
    try {
      xml = await Deno.readTextFile(junitPath);
    } catch {
      // no report: deno test failed before running anything (or was killed)
    }
    const { passed, failed: caseFailures, skipped, failures } = countCases(parseJunit(xml));
    let failed = caseFailures;
    if (!status.success && failed === 0) {
      failed = 1;
      failures.push(
        `deno test exited with ${status.signal ?? status.code} without a failing test case ` +
          `(a test module failed to load or type-check, or deno test crashed)`,
      );
    }
    console.log("");
    if (failures.length > 0) {
      console.log("failed:");
      for (const f of failures) console.log(`  ${f}`);
    }
    if (skipped > 0) console.log(`${skipped} ignored`);
    console.log(`${passed} passed, ${failed} failed`);
    return failed > 0 ? 1 : 0;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    console.error(`test.ts: ${e instanceof Error ? e.message : e}`);
    console.log("0 passed, 1 failed");
    code = 1;
  }
  Deno.exit(code);
}
