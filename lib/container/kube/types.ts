/**
 * The parts of Kubernetes objects `kube generate` writes and `kube play` reads (scope "pods", issue 15).
 * Only what pod uses; `kube play` checks the shapes itself (the YAML is untrusted).
 * @module
 */

/** `metadata`. */
export interface ObjectMeta {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

/** A container's `env` entry. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

/** A container's port. */
export interface ContainerPort {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
  name?: string;
}

/** A container's volume mount. */
export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

/** A container. */
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: {
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }[];
  workingDir?: string;
  ports?: ContainerPort[];
  volumeMounts?: VolumeMount[];
  securityContext?: {
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  resources?: Record<string, unknown>;
  tty?: boolean;
  stdin?: boolean;
}

/** A pod volume. */
export interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: { name: string; items?: { key: string; path: string }[]; optional?: boolean };
  secret?: { secretName: string; items?: { key: string; path: string }[]; optional?: boolean };
  emptyDir?: { medium?: string; sizeLimit?: string };
}

/** A pod spec. */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostname?: string;
  restartPolicy?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  shareProcessNamespace?: boolean;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  securityContext?: Record<string, unknown>;
}

/** A `v1 Pod`. */
export interface PodObject {
  apiVersion: "v1";
  kind: "Pod";
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: Record<string, unknown>;
}

/** An `apps/v1 Deployment`. */
export interface DeploymentObject {
  apiVersion: "apps/v1";
  kind: "Deployment";
  metadata: ObjectMeta;
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: ObjectMeta; spec: PodSpec };
  };
  status?: Record<string, unknown>;
}

/** A `v1 Service`. */
export interface ServiceObject {
  apiVersion: "v1";
  kind: "Service";
  metadata: ObjectMeta;
  spec: {
    ports: { name: string; port: number; targetPort: number; nodePort?: number; protocol?: string }[];
    selector: Record<string, string>;
    type: string;
  };
  status?: Record<string, unknown>;
}
