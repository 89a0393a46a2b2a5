/**
 * Go's `fmt.Sprintf`, `fmt.Sprint` and `fmt.Sprintln` over the JavaScript value model of
 * {@link ../gofmt.ts}: verbs `%v %+v %#v %T %s %q %x %X %d %b %o %O %c %U %t %e %E %f %F %g %G %%`,
 * flags `+ - # 0 space`, width and precision (also `*` and `[n]` argument indexes), and Go's error
 * notations (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`, `%!(BADWIDTH)`).
 *
 * One file over 400 lines on purpose: Go's verb table is one cohesive state machine.
 * @module
 */

import {
  canBackquote,
  formatFloat,
  goKind,
  goQuote,
  goQuoteASCII,
  goQuoteRune,
  goTimeString,
  goTypeName,
  mapEntries,
  runeCount,
  sliceItems,
  structEntries,
  utf8Bytes,
} from "../gofmt.ts";

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function clearFlags(): Flags {
  return {
    plus: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    widPresent: false,
    prec: 0,
    precPresent: false,
  };
}

const MAX_DEPTH = 64;
const TOO_LARGE = 1e6;

function padding(n: number, zero: boolean): string {
  return n > 0 ? (zero ? "0" : " ").repeat(n) : "";
}

/** Pads `s` to the width (counting runes), left or right; zero padding only when `zeroOk`. */
function pad(f: Flags, s: string, zeroOk = false): string {
  if (!f.widPresent || f.wid === 0) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  return f.minus ? s + padding(n, false) : padding(n, zeroOk && f.zero) + s;
}

function truncate(f: Flags, s: string): string {
  if (!f.precPresent) return s;
  const runes = [...s];
  return runes.length > f.prec ? runes.slice(0, f.prec).join("") : s;
}

/** A printer for one call; `maps` marks extra objects to treat as Go maps. */
class Printer {
  constructor(private maps?: WeakSet<object>) {}

  badVerb(arg: unknown, verb: string, f: Flags): string {
    if (arg === null || arg === undefined) return `%!${verb}(<nil>)`;
    return `%!${verb}(${goTypeName(arg, this.maps)}=${this.printArg(arg, "v", f, 0)})`;
  }

  fmtInteger(v: bigint, verb: string, f: Flags, arg: unknown): string {
    switch (verb) {
      case "c":
        return pad(f, codePointString(v));
      case "q":
        return pad(f, goQuoteRune(Number(v), f.plus));
      case "U": {
        let s = "U+" + (v < 0n ? -v : v).toString(16).toUpperCase().padStart(4, "0");
        if (v < 0n) s = "U+" + (2n ** 64n + v).toString(16).toUpperCase();
        if (f.sharp && v >= 0n && v <= 0x10ffffn) s += " '" + codePointString(v) + "'";
        return pad(f, s);
      }
    }
    const base = verb === "b" ? 2 : verb === "o" || verb === "O" ? 8 : verb === "x" || verb === "X" ? 16 : 10;
    if (!"vdboOxX".includes(verb)) return this.badVerb(arg, verb, f);
    const neg = v < 0n;
    let digits = (neg ? -v : v).toString(base);
    if (verb === "X") digits = digits.toUpperCase();
    let prec = -1;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && v === 0n) return padding(f.widPresent ? f.wid : 0, false);
    } else if (f.zero && !f.minus && f.widPresent) {
      prec = f.wid;
      if (neg || f.plus || f.space) prec--;
    }
    if (prec > digits.length) digits = "0".repeat(prec - digits.length) + digits;
    if (f.sharp) {
      if (base === 2) digits = "0b" + digits;
      else if (base === 8 && digits[0] !== "0") digits = "0" + digits;
      else if (base === 16) digits = (verb === "X" ? "0X" : "0x") + digits;
    }
    if (verb === "O") digits = "0o" + digits;
    if (neg) digits = "-" + digits;
    else if (f.plus) digits = "+" + digits;
    else if (f.space) digits = " " + digits;
    return pad(f, digits);
  }

  fmtFloat(v: number, verb: string, f: Flags, arg: unknown): string {
    let fmt: string;
    let prec: number;
    switch (verb) {
      case "v":
        fmt = "g";
        prec = -1;
        break;
      case "g":
      case "G":
        fmt = verb;
        prec = -1;
        break;
      case "e":
      case "E":
      case "f":
        fmt = verb;
        prec = 6;
        break;
      case "F":
        fmt = "f";
        prec = 6;
        break;
      default:
        return this.badVerb(arg, verb, f);
    }
    if (f.precPresent) prec = f.prec;
    let num = formatFloat(v, fmt, prec);
    if (num[0] !== "-" && num[0] !== "+") num = "+" + num;
    if (f.space && num[0] === "+" && !f.plus) num = " " + num.slice(1);
    if (num[1] === "I" || num[1] === "N") {
      if (num[1] === "N" && !f.space && !f.plus) num = num.slice(1);
      return pad(f, num);
    }
    if (f.plus || num[0] !== "+") {
      if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
        return num[0] + "0".repeat(f.wid - num.length) + num.slice(1);
      }
      return pad(f, num);
    }
    return pad(f, num.slice(1), true);
  }

  fmtHex(bytes: Uint8Array, verb: string, f: Flags): string {
    let length = bytes.length;
    if (f.precPresent && f.prec < length) length = f.prec;
    if (length === 0) return f.widPresent ? padding(f.wid, false) : "";
    const parts: string[] = [];
    for (let i = 0; i < length; i++) {
      let h = bytes[i].toString(16).padStart(2, "0");
      if (verb === "X") h = h.toUpperCase();
      parts.push(h);
    }
    const px = verb === "X" ? "0X" : "0x";
    let s: string;
    if (f.space) s = parts.map((p) => (f.sharp ? px : "") + p).join(" ");
    else s = (f.sharp ? px : "") + parts.join("");
    return pad(f, s);
  }

  fmtString(s: string, verb: string, f: Flags, arg: unknown): string {
    switch (verb) {
      case "v":
        if (f.sharpV) return pad(f, goQuote(s));
        return pad(f, truncate(f, s));
      case "s":
        return pad(f, truncate(f, s));
      case "x":
      case "X":
        return this.fmtHex(utf8Bytes(s), verb, f);
      case "q": {
        const t = truncate(f, s);
        if (f.sharp && canBackquote(t)) return pad(f, "`" + t + "`");
        return pad(f, f.plus ? goQuoteASCII(t) : goQuote(t));
      }
    }
    return this.badVerb(arg, verb, f);
  }

  printArg(arg: unknown, verb: string, f: Flags, depth: number): string {
    if (arg === null || arg === undefined) {
      if (verb === "T" || verb === "v") return pad(f, "<nil>");
      if (depth > 0) return "<nil>";
      return this.badVerb(arg, verb, f);
    }
    if (verb === "T") return pad(f, goTypeName(arg, this.maps));
    const kind = goKind(arg, this.maps);
    switch (kind) {
      case "bool":
        if (verb === "t" || verb === "v") return pad(f, String(arg));
        return this.badVerb(arg, verb, f);
      case "int":
        return this.fmtInteger(BigInt(arg as number | bigint), verb, f, arg);
      case "float":
        return this.fmtFloat(arg as number, verb, f, arg);
      case "string":
        return this.fmtString(String(arg), verb, f, arg);
      case "time":
        if ("vsxXq".includes(verb)) return this.fmtString(goTimeString(arg as Date), verb, f, arg);
        return this.badVerb(arg, verb, f);
      case "func":
        if (verb === "v" || verb === "p") return pad(f, "0x0");
        return this.badVerb(arg, verb, f);
    }
    if (depth >= MAX_DEPTH) return "...";
    if (kind === "slice") {
      if (arg instanceof Uint8Array && "sqxX".includes(verb)) {
        if (verb === "x" || verb === "X") return this.fmtHex(arg, verb, f);
        return this.fmtString(new TextDecoder().decode(arg), verb, f, arg);
      }
      const items = sliceItems(arg);
      const inner = items.map((x) => this.printArg(x, verb, f, depth + 1)).join(" ");
      return "[" + inner + "]";
    }
    if (kind === "map") {
      const parts = mapEntries(arg).map(([k, v]) =>
        this.printArg(k, verb, f, depth + 1) + ":" + this.printArg(v, verb, f, depth + 1)
      );
      return "map[" + parts.join(" ") + "]";
    }
    // struct
    const parts = structEntries(arg as object).map(([k, v]) =>
      (f.plusV || f.sharpV ? k + ":" : "") + this.printArg(v, verb, f, depth + 1)
    );
    return "{" + parts.join(" ") + "}";
  }

  sprintf(format: string, a: unknown[]): string {
    let out = "";
    let argNum = 0;
    let reordered = false;
    const end = format.length;
    let i = 0;
    const intFromArg = (): [number, boolean] => {
      let num = 0;
      let ok = false;
      if (argNum < a.length) {
        const v = a[argNum];
        if (typeof v === "number" && Number.isInteger(v)) [num, ok] = [v, true];
        else if (typeof v === "bigint") [num, ok] = [Number(v), true];
        if (Math.abs(num) > TOO_LARGE) [num, ok] = [0, false];
        argNum++;
      }
      return [num, ok];
    };
    const parsenum = (): [number, boolean] => {
      let num = 0;
      let isnum = false;
      while (i < end && format[i] >= "0" && format[i] <= "9") {
        if (num > TOO_LARGE) {
          i = end;
          return [0, false];
        }
        num = num * 10 + (format.charCodeAt(i) - 48);
        isnum = true;
        i++;
      }
      return [num, isnum];
    };
    let goodArgNum = true;
    let afterIndex = false;
    const argNumber = () => {
      if (i >= end || format[i] !== "[") return;
      reordered = true;
      const close = format.indexOf("]", i + 1);
      if (close < 0) {
        goodArgNum = false;
        i = end;
        return;
      }
      const n = /^[0-9]+$/.test(format.slice(i + 1, close)) ? Number(format.slice(i + 1, close)) : -1;
      if (n < 1 || n > a.length) goodArgNum = false;
      else argNum = n - 1;
      i = close + 1;
      afterIndex = true;
    };
    while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== "%") i++;
      if (i > lasti) out += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      const f = clearFlags();
      flags: for (; i < end; i++) {
        switch (format[i]) {
          case "#":
            f.sharp = true;
            break;
          case "0":
            f.zero = !f.minus;
            break;
          case "+":
            f.plus = true;
            break;
          case "-":
            f.minus = true;
            f.zero = false;
            break;
          case " ":
            f.space = true;
            break;
          default:
            break flags;
        }
      }
      afterIndex = false;
      argNumber();
      if (i < end && format[i] === "*") {
        i++;
        [f.wid, f.widPresent] = intFromArg();
        if (!f.widPresent) out += "%!(BADWIDTH)";
        if (f.wid < 0) {
          f.wid = -f.wid;
          f.minus = true;
          f.zero = false;
        }
        afterIndex = false;
      } else {
        [f.wid, f.widPresent] = parsenum();
        if (afterIndex && f.widPresent) goodArgNum = false;
      }
      if (i + 1 < end && format[i] === ".") {
        i++;
        if (afterIndex) goodArgNum = false;
        afterIndex = false;
        argNumber();
        if (i < end && format[i] === "*") {
          i++;
          [f.prec, f.precPresent] = intFromArg();
          if (f.prec < 0) [f.prec, f.precPresent] = [0, false];
          if (!f.precPresent) out += "%!(BADPREC)";
          afterIndex = false;
        } else {
          [f.prec, f.precPresent] = parsenum();
          if (!f.precPresent) [f.prec, f.precPresent] = [0, true];
        }
      }
      if (!afterIndex) argNumber();
      if (i >= end) {
        out += "%!(NOVERB)";
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i)!);
      i += verb.length;
      if (verb === "%") {
        out += "%";
      } else if (!goodArgNum) {
        out += `%!${verb}(BADINDEX)`;
      } else if (argNum >= a.length) {
        out += `%!${verb}(MISSING)`;
      } else {
        if (verb === "v") {
          f.sharpV = f.sharp;
          f.sharp = false;
          f.plusV = f.plus;
          f.plus = false;
        }
        out += this.printArg(a[argNum], verb, f, 0);
        argNum++;
      }
    }
    if (!reordered && argNum < a.length) {
      const extra = a.slice(argNum).map((x) =>
        x === null || x === undefined
          ? "<nil>"
          : `${goTypeName(x, this.maps)}=${this.printArg(x, "v", clearFlags(), 0)}`
      );
      out += `%!(EXTRA ${extra.join(", ")})`;
    }
    return out;
  }
}

function codePointString(v: bigint): string {
  const n = Number(v);
  if (n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return "\ufffd";
  return String.fromCodePoint(n);
}

/** Go's `fmt.Sprintf`. `maps` holds objects to treat as Go maps in addition to the marked ones. */
export function sprintf(format: string, args: unknown[], maps?: WeakSet<object>): string {
  return new Printer(maps).sprintf(format, args);
}

/** Go's `fmt.Sprint` (`%v` of each operand; a space between operands when neither is a string). */
export function sprint(args: unknown[], maps?: WeakSet<object>): string {
  const p = new Printer(maps);
  let out = "";
  let prevString = false;
  args.forEach((arg, n) => {
    const isString = typeof arg === "string";
    if (n > 0 && !isString && !prevString) out += " ";
    out += p.printArg(arg, "v", clearFlags(), 0);
    prevString = isString;
  });
  return out;
}

/** Go's `fmt.Sprintln` (operands separated by spaces, newline appended). */
export function sprintln(args: unknown[], maps?: WeakSet<object>): string {
  const p = new Printer(maps);
  return args.map((arg) => p.printArg(arg, "v", clearFlags(), 0)).join(" ") + "\n";
}

/** `%v` of one value, as `{{.}}` prints it (`undefined` is Go's invalid value: `<no value>`). */
export function formatGoValue(v: unknown, maps?: WeakSet<object>): string {
  if (v === undefined) return "<no value>";
  return new Printer(maps).printArg(v, "v", clearFlags(), 0);
}
