/**
 * Go text/template engine for podman-compatible `--format` strings.
 *
 * ```ts
 * const t = compileTemplate("{{.State.Status}}");
 * t.execute({ State: { Status: "running" } }); // "running"
 * renderTemplateRows("table {{.ID}}\t{{.Names}}", rows, { headers: { ID: "CONTAINER ID" } });
 * ```
 * @module
 */

export { compileTemplate, PODMAN_MAP_FIELDS, Template } from "./template.ts";
export type { CompileOptions, ExecuteOptions, TemplateFunction } from "./template.ts";
export { TemplateError } from "./errors.ts";
export type { TemplateErrorKind } from "./errors.ts";
export {
  headerName,
  isTableFormat,
  normalizeFormat,
  renderTemplateRows,
  splitCamelCase,
  templateHeader,
} from "./render.ts";
export type { RenderOptions } from "./render.ts";
export { formatGoValue, sprint, sprintf, sprintln } from "./printf.ts";
export { goJson } from "./json.ts";
export { goMap, goStruct } from "../gofmt.ts";
