/**
 * The store's container records, one import for their users (the parts live in their own files):
 *
 * - lib/store/container_types.ts: `config.json`/`state.json`/`exit.json` shapes
 * - lib/store/container_paths.ts: the files of a container directory
 * - lib/store/container_names.ts: the name index, lookup by name/id/prefix, rename
 * - lib/store/container_state.ts: state writes under the container lock, refresh against the live process
 * - lib/store/container_records.ts: create, read, list, remove
 *
 * Whether a pid is alive: lib/proc.ts (`procStartTime` is re-exported here for older importers).
 * @module
 */

export * from "./container_types.ts";
export * from "./container_paths.ts";
export * from "./container_names.ts";
export * from "./container_state.ts";
export * from "./container_records.ts";
export { procStartTime } from "../proc.ts";
