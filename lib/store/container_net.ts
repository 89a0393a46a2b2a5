/**
 * The networking part of a container record (issue 12, scope "net"): the `--network` mode, published ports,
 * DNS and /etc/hosts settings. Types only; lib/network/ reads and acts on them.
 * @module
 */

/** A published port (range), in netavark's port-mapping shape. */
export interface PortMapping {
  /** Host address to bind (empty: every address). */
  host_ip: string;
  /** First container port. */
  container_port: number;
  /** First host port. */
  host_port: number;
  /** Number of consecutive ports (1 for one port). */
  range: number;
  /** `tcp`, `udp` or `sctp`. */
  protocol: string;
}

/** How one network is attached (podman's `PerNetworkOptions`). */
export interface NetworkAttachment {
  /** Static addresses (`ip=`, `--ip`). */
  static_ips?: string[];
  /** DNS aliases (`alias=`, `--network-alias`). */
  aliases?: string[];
  /** MAC address (`mac=`, `--mac-address`). */
  static_mac?: string;
  /** Interface name in the container (`interface_name=`; default eth0, eth1…). */
  interface_name?: string;
}

/** The network mode of a container. */
export interface NetworkSpec {
  /** The mode. `other`: `container:`/`ns:` values, which the namespace code handles. */
  mode: "none" | "host" | "slirp4netns" | "pasta" | "bridge" | "other";
  /** `slirp4netns:` options (`allow_host_loopback`, `mtu`, `cidr`, `port_handler`, `enable_ipv6`…). */
  slirp?: Record<string, string>;
  /** `pasta:` arguments. */
  pastaArgs?: string[];
  /** bridge: the networks by name, in order. */
  networks?: Record<string, NetworkAttachment>;
  /** The `--network` values as written. */
  args: string[];
}

/** Everything networking a container was created with. */
export interface ContainerNetConfig {
  /** The mode. */
  network: NetworkSpec;
  /** Published ports, host ports assigned (`-p`, `-P`). */
  ports: PortMapping[];
  /** `--dns` servers. */
  dns?: string[];
  /** `--dns-search` domains. */
  dnsSearch?: string[];
  /** `--dns-option` options. */
  dnsOptions?: string[];
  /** `--add-host name:ip` entries. */
  addHosts?: string[];
  /** `--no-hosts`: /etc/hosts is the image's own. */
  noHosts?: boolean;
}
