/**
 * pod as a library: pull images into an OCI layout store, unpack layers safely, and run containers in Linux
 * namespaces — the same code the `pod` CLI runs.
 *
 * ```ts
 * import { createContainer, pullImage, startForeground, storeRoot } from "./mod.ts";
 *
 * const root = storeRoot();
 * const image = await pullImage(root, "127.0.0.1:5000/busybox:latest");
 * const ctr = await createContainer(root, { image: image.ref, args: ["echo", "hi"] });
 * const code = await startForeground(root, ctr.config.id, { tty: false, stdin: false });
 * ```
 *
 * Every failure meant for a user is a {@link PodError} carrying podman's exit code.
 * @module
 */

export { ExitCode, NotFoundError, PodError, UsageError } from "./lib/errors.ts";
export { VERSION } from "./lib/version.ts";

// image references and OCI documents
export {
  familiarName,
  type ImageReference,
  normalizeReference,
  parseReference,
} from "./lib/oci/reference.ts";
export type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from "./lib/oci/manifest.ts";

// the store
export { storeRoot } from "./lib/store/paths.ts";
export {
  ensureStore,
  findImage,
  type ImageRecord,
  layerSources,
  listImages,
  readImageConfig,
  readManifest,
  resolveImage,
  tagImage,
} from "./lib/store/images.ts";
export { collectGarbage } from "./lib/store/gc.ts";
export { type CheckReport, checkStore } from "./lib/image/check.ts";
export {
  type ContainerConfig,
  type ContainerRecord,
  type ContainerState,
  getContainer,
  listContainers,
} from "./lib/store/containers.ts";

// registry
export { pullImage, type PullOptions, type PullResult } from "./lib/image/pull.ts";

// the unpacker (the security boundary)
export { applyLayer, type LayerSource, unpackLayers, type UnpackOptions } from "./lib/unpack/mod.ts";

// containers
export { createContainer, type CreateOptions } from "./lib/container/create.ts";
export { startDetached, startForeground } from "./lib/container/start.ts";
export { killById, removeById, stopById, waitExited } from "./lib/container/lifecycle.ts";
export { execInContainer, type ExecRequest } from "./lib/container/exec.ts";
export { containerInspectData } from "./lib/container/inspect.ts";

// podman's --format templates
export { compileTemplate, renderTemplateRows, TemplateError } from "./lib/format/template/mod.ts";
