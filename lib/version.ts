/** pod's version, from deno.json. @module */

import meta from "../deno.json" with { type: "json" };

/** pod's version string. */
export const VERSION: string = meta.version;
