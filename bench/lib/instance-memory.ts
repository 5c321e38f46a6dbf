/**
 * Runs a child process the way a Cloud Functions instance with a given memory (512 MiB: terraform's
 * `function_memory`) runs it. Node sizes V8's heap from the memory it may use, the smaller of the
 * machine's and its cgroup's limit (`process.constrainedMemory()`): on a 512 MiB instance that is a
 * 259 MiB heap with 1 MiB semi-spaces, on this 24 GB machine 4144 MiB with 16 MiB ones, whose new
 * space alone then holds 30 MiB more before a scavenge. So a memory figure taken with this
 * machine's sizing is not what the instance uses.
 *
 * Preferably each process runs in a memory cgroup of its own with the instance's limit, made as a child
 * of this process's cgroup (cgroup v1 or v2): Node sizes the heap from it and the kernel enforces it
 * (a process over the limit is OOM-killed, as on the instance). Where none can be made (not root,
 * read-only cgroupfs, no memory controller) or Node does not see its limit, the process gets the V8
 * flags that give the same heap sizing instead, and the emulation says which was used and why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;

/** terraform/variables.tf: function_memory defaults to "512Mi". */
export const INSTANCE_MEMORY_BYTES = 512 * MiB;

/** How V8 sized the heap of a process, as seen from inside it. */
export interface HeapSizing {
  /** process.constrainedMemory(); null when there is no limit. */
  constrainedMemory: number | null;
  /** v8.getHeapStatistics().heap_size_limit: old generation + young generation (3 semi-spaces). */
  heapSizeLimit: number;
  /** The largest new space seen (two semi-spaces): the probe allocates short-lived objects until it stops growing. */
  maxNewSpace: number;
}

export interface Emulation {
  memoryBytes: number;
  method: 'cgroup-v1' | 'cgroup-v2' | 'v8-flags';
  /** One sentence: exactly how the instance was emulated. */
  description: string;
  /** With a cgroup: each process gets its own child of `parent`, with `limitFile` = memoryBytes. */
  cgroup: { parent: string; limitFile: string } | null;
  /** With v8-flags: the flags every process gets ([] with a cgroup). */
  nodeFlags: string[];
  /** With v8-flags: why no cgroup was used. */
  noCgroup: string | null;
  /**
   * The agreement check: the heap sizing of a probe process in a cgroup with the limit (null when none
   * could be made) and of one with `flags` outside any limit; `agree` when both give the same heap
   * limit and new space (null when there was no cgroup to compare with).
   */
  check: { cgroup: HeapSizing | null; flags: string[]; withFlags: HeapSizing; agree: boolean | null };
}

/** What became of one process run as the instance, once it exited. */
export interface InstanceOutcome {
  /** Processes the kernel's OOM killer killed in the process's cgroup (null without a cgroup). */
  oomKills: number | null;
  /**
   * The cgroup's peak memory charge (null without a cgroup): the memory the process brought in (its heap
   * and other anonymous memory, page cache of files it read first, kernel memory), not pages already
   * cached by earlier processes (node's binary, libraries) which RSS does count; so it can be below RSS.
   */
  cgroupPeakBytes: number | null;
}

export interface InstanceProcess {
  /** What to spawn in place of `node ...nodeArgs`. */
  file: string;
  args: string[];
  /** Call once the process has exited: reads its cgroup's counters and removes the cgroup. Idempotent. */
  finish(): Promise<InstanceOutcome>;
}

export interface InstanceMemory {
  emulation: Emulation;
  launch(nodeArgs: string[]): InstanceProcess;
}

/**
 * The flags that give V8 (12.4, Node 22, 64-bit) the heap Node configures for `memoryBytes`: an old
 * generation of half the memory, at least 256 MiB and at most 2 GiB, and semi-spaces of 1/256 of it up
 * to 256 MiB, else 1/128 rounded up to a power of two, at most 16 MiB. Measured against cgroup limits
 * from 128 MiB to 8 GiB; above that V8 switches to other caps, not modelled here.
 */
export function v8FlagsFor(memoryBytes: number): string[] {
  if (memoryBytes > 8192 * MiB) throw new Error(`V8's heap sizing for ${memoryBytes / MiB} MiB is not modelled (only up to 8 GiB)`);
  const oldMiB = Math.min(2048, Math.max(256, Math.floor(memoryBytes / MiB / 2)));
  const semiMiB = oldMiB <= 256 ? 1 : Math.min(16, 2 ** Math.ceil(Math.log2(oldMiB / 128)));
  return [`--max-old-space-size=${oldMiB}`, `--max-semi-space-size=${semiMiB}`];
}

// The shell joins the cgroup, then execs node: node keeps the shell's pid (so /proc/<pid> is node's)
// and starts inside the limit, which it reads once, at start.
const JOIN_THEN_EXEC = 'echo $$ > "$0" && exec "$@"';

const PROBE = `
const v8 = require('node:v8');
let maxNewSpace = 0;
for (let i = 0; i < 3000; i++) {
  const keep = [];
  for (let j = 0; j < 2000; j++) keep.push({ a: j, b: [j, j] });
  maxNewSpace = Math.max(maxNewSpace, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
}
const constrained = process.constrainedMemory();
console.log(JSON.stringify({ constrainedMemory: constrained > 0 && constrained < Number.MAX_SAFE_INTEGER ? constrained : null, heapSizeLimit: v8.getHeapStatistics().heap_size_limit, maxNewSpace }));
`;

function probe(file: string, args: string[]): HeapSizing | string {
  const { NODE_OPTIONS: _options, ...env } = process.env;
  const run = spawnSync(file, [...args, '-e', PROBE], { encoding: 'utf8', timeout: 30_000, env });
  if (run.status !== 0) return `the probe exited with ${run.status ?? run.signal}: ${(run.stderr || run.error?.message || '').trim().split('\n')[0]}`;
  return JSON.parse(run.stdout) as HeapSizing;
}

const sameSizing = (a: HeapSizing, b: HeapSizing) => a.heapSizeLimit === b.heapSizeLimit && a.maxNewSpace === b.maxNewSpace;

interface CgroupSite {
  version: 1 | 2;
  /** This process's memory cgroup directory. */
  dir: string;
  limitFile: string;
  /** cgroup v2: this code enabled the memory controller for the children of `dir` (to undo afterwards). */
  enabledSubtree: boolean;
}

const errno = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/** This process's memory cgroup, where children with a limit can be made, or why not. */
function memoryCgroup(): CgroupSite | string {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (!existsSync('/bin/sh')) return 'no /bin/sh to join a cgroup before starting node';
  let lines: string[];
  let mounts: string[][];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    // mountinfo: id parent dev root mountpoint options [optional...] - fstype source superoptions
    mounts = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').map((line) => line.split(' '));
  } catch (error) {
    return `cannot read /proc/self/cgroup or mountinfo (${errno(error)})`;
  }
  const entries = lines.map((line) => {
    const [id, controllers, ...path] = line.split(':');
    return { id, controllers: controllers!.split(','), path: path.join(':') };
  });
  const mountOf = (fstype: string, has: (superOptions: string[]) => boolean) =>
    mounts.map((fields) => ({ fields, dash: fields.indexOf('-') })).find(({ fields, dash }) => fields[dash + 1] === fstype && has(fields[dash + 3]!.split(',')))?.fields;
  const under = (mount: string[], path: string) => {
    const [root, mountpoint] = [mount[3]!, mount[4]!];
    if (root !== '/' && path !== root && !path.startsWith(`${root}/`)) return null;
    return join(mountpoint, root === '/' ? path : path.slice(root.length));
  };

  // A v1 memory hierarchy takes precedence (hybrid layouts also mount an empty v2 hierarchy), as in libuv.
  const v1 = entries.find((entry) => entry.controllers.includes('memory'));
  if (v1) {
    const mount = mountOf('cgroup', (options) => options.includes('memory'));
    if (!mount) return 'cgroup v1 memory controller listed in /proc/self/cgroup but not mounted';
    if (mount[5]!.split(',').includes('ro')) return `the cgroup v1 memory hierarchy at ${mount[4]} is mounted read-only`;
    const dir = under(mount, v1.path);
    if (!dir || !existsSync(dir)) return `this process's memory cgroup ${v1.path} is not visible under ${mount[4]} (another cgroup namespace)`;
    return { version: 1, dir, limitFile: 'memory.limit_in_bytes', enabledSubtree: false };
  }
  const v2 = entries.find((entry) => entry.id === '0' && entry.controllers.join('') === '');
  const mount = mountOf('cgroup2', () => true);
  if (!v2 || !mount) return 'no memory cgroup: neither a cgroup v1 memory hierarchy nor cgroup v2 is mounted';
  if (mount[5]!.split(',').includes('ro')) return `cgroup v2 is mounted read-only at ${mount[4]}`;
  const dir = under(mount, v2.path);
  if (!dir || !existsSync(dir)) return `this process's cgroup ${v2.path} is not visible under ${mount[4]}`;
  const controllers = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8').split(/\s+/);
    } catch {
      return [];
    }
  };
  if (!controllers('cgroup.controllers').includes('memory')) return `cgroup v2 without the memory controller at ${dir}`;
  let enabledSubtree = false;
  if (!controllers('cgroup.subtree_control').includes('memory')) {
    try {
      writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory');
      enabledSubtree = true;
    } catch (error) {
      const code = errno(error);
      return code === 'EBUSY'
        ? `cgroup v2: cannot enable the memory controller for children of ${dir}, which holds processes itself (the no-internal-processes rule)`
        : `cgroup v2: cannot enable the memory controller for children of ${dir} (${code}${code === 'EACCES' || code === 'EPERM' ? `, uid ${process.getuid?.()}` : ''})`;
    }
  }
  return { version: 2, dir, limitFile: 'memory.max', enabledSubtree };
}

let made = 0;
const live = new Set<string>();
// A section that fails mid-run still removes its empty cgroups.
process.once('exit', () => {
  for (const dir of live) {
    try {
      rmdirSync(dir);
    } catch {}
  }
});

/** Makes a child cgroup of site.dir limited to memoryBytes (and no swap, as on an instance). */
function makeCgroup(site: CgroupSite, memoryBytes: number): string {
  const dir = join(site.dir, `hookshape-bench-${process.pid}-${++made}`);
  try {
    mkdirSync(dir);
  } catch (error) {
    const code = errno(error);
    throw new Error(`cannot create ${dir} (${code}${code === 'EACCES' || code === 'EPERM' ? `: uid ${process.getuid?.()}, not root and the cgroup is not delegated` : code === 'EROFS' ? ': read-only cgroupfs' : ''})`);
  }
  live.add(dir);
  try {
    writeFileSync(join(dir, site.limitFile), String(memoryBytes));
  } catch (error) {
    removeCgroup(dir);
    throw new Error(`cannot set ${join(dir, site.limitFile)} (${errno(error)})`);
  }
  // Without swap accounting these files are absent or refuse the write; this machine has no swap anyway.
  try {
    if (site.version === 1) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(memoryBytes));
    else writeFileSync(join(dir, 'memory.swap.max'), '0');
  } catch {}
  return dir;
}

function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    live.delete(dir);
    return true;
  } catch (error) {
    if (errno(error) === 'ENOENT') live.delete(dir);
    return errno(error) === 'ENOENT';
  }
}

const readNumber = (file: string, key?: string): number | null => {
  try {
    const text = readFileSync(file, 'utf8');
    const value = key ? new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] : text.trim();
    return value === undefined || value === 'max' ? null : Number(value);
  } catch {
    return null;
  }
};

function cgroupProcess(site: CgroupSite, memoryBytes: number, nodeArgs: string[]): InstanceProcess {
  const dir = makeCgroup(site, memoryBytes);
  let outcome: Promise<InstanceOutcome> | undefined;
  return {
    file: '/bin/sh',
    args: ['-c', JOIN_THEN_EXEC, join(dir, 'cgroup.procs'), process.execPath, ...nodeArgs],
    finish: () =>
      (outcome ??= (async () => {
        const result: InstanceOutcome = {
          oomKills: site.version === 1 ? readNumber(join(dir, 'memory.oom_control'), 'oom_kill') : readNumber(join(dir, 'memory.events'), 'oom_kill'),
          cgroupPeakBytes: readNumber(join(dir, site.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak')),
        };
        // The kernel may take a moment to let go of a process that just exited.
        for (let i = 0; i < 50 && !removeCgroup(dir); i++) await new Promise((resolve) => setTimeout(resolve, 20));
        return result;
      })()),
  };
}

/** Decides how to emulate an instance with memoryBytes on this machine, checking both ways where it can. */
export async function prepareInstanceMemory(memoryBytes = INSTANCE_MEMORY_BYTES): Promise<InstanceMemory> {
  const flags = v8FlagsFor(memoryBytes);
  const withFlags = probe(process.execPath, flags);
  if (typeof withFlags === 'string') throw new Error(`node ${flags.join(' ')}: ${withFlags}`);
  const mib = `${memoryBytes / MiB} MiB`;

  let site = memoryCgroup();
  let inCgroup: HeapSizing | null = null;
  if (typeof site !== 'string') {
    let sizing: HeapSizing | string;
    try {
      const launched = cgroupProcess(site, memoryBytes, []);
      const probed = probe(launched.file, launched.args);
      await launched.finish();
      sizing = typeof probed === 'string' ? `node in a cgroup under ${site.dir}: ${probed}` : probed;
    } catch (error) {
      sizing = (error as Error).message;
    }
    if (typeof sizing === 'string') site = sizing;
    else if (sizing.constrainedMemory !== memoryBytes) {
      // libuv reads the limit at a fixed path (/sys/fs/cgroup/memory/<path> for v1, /sys/fs/cgroup/<path> for v2).
      site = `Node did not see the limit of a cgroup under ${site.dir} (process.constrainedMemory() = ${sizing.constrainedMemory})`;
    } else inCgroup = sizing;
  }
  const agree = inCgroup ? sameSizing(inCgroup, withFlags) : null;
  const check = { cgroup: inCgroup, flags, withFlags, agree };
  const sizingText = (s: HeapSizing) => `heap limit ${(s.heapSizeLimit / MiB).toFixed(0)} MiB, new space up to ${(s.maxNewSpace / MiB).toFixed(0)} MiB`;

  if (typeof site !== 'string') {
    const cgroupSite = site;
    const version = site.version;
    const restore = site.enabledSubtree ? cgroupSite.dir : null;
    if (restore) {
      process.once('exit', () => {
        try {
          writeFileSync(join(restore, 'cgroup.subtree_control'), '-memory');
        } catch {}
      });
    }
    return {
      emulation: {
        memoryBytes,
        method: version === 1 ? 'cgroup-v1' : 'cgroup-v2',
        description: `cgroup v${version}: each process in a memory cgroup of its own under ${site.dir} with ${site.limitFile} = ${memoryBytes} (${mib}); Node sized the heap from it: ${sizingText(inCgroup!)}`,
        cgroup: { parent: site.dir, limitFile: site.limitFile },
        nodeFlags: [],
        noCgroup: null,
        check,
      },
      launch: (nodeArgs) => cgroupProcess(cgroupSite, memoryBytes, nodeArgs),
    };
  }
  return {
    emulation: {
      memoryBytes,
      method: 'v8-flags',
      description: `V8 flags ${flags.join(' ')}, Node's heap sizing for ${mib} (${sizingText(withFlags)}), no memory limit enforced; no cgroup: ${site}`,
      cgroup: null,
      nodeFlags: flags,
      noCgroup: site,
      check,
    },
    launch: (nodeArgs) => ({ file: process.execPath, args: [...flags, ...nodeArgs], finish: async () => ({ oomKills: null, cgroupPeakBytes: null }) }),
  };
}

/**
 * Preloaded (--import) into a measured process: writes how V8 sized its heap to BENCH_HEAP_OUT at start
 * and whenever the new space grows (checked every 100 ms), so the result shows the sizing the process
 * really had. A data: URL, so that the function's own files stay as deployed.
 */
export const HEAP_REPORT_IMPORT = `data:text/javascript,${encodeURIComponent(`
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
const out = process.env.BENCH_HEAP_OUT;
const constrained = process.constrainedMemory();
let maxNewSpace = 0;
const look = () => {
  const size = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
  if (size <= maxNewSpace) return;
  maxNewSpace = size;
  writeFileSync(out, JSON.stringify({ constrainedMemory: constrained > 0 && constrained < Number.MAX_SAFE_INTEGER ? constrained : null, heapSizeLimit: getHeapStatistics().heap_size_limit, maxNewSpace }));
};
if (out) {
  look();
  setInterval(look, 100).unref();
}
`)}`;

export function readHeapReport(file: string): HeapSizing | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as HeapSizing;
  } catch {
    return null;
  }
}
