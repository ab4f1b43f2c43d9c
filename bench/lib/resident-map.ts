import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';

/**
 * Where a process's resident memory is: which parts of its executable (machine code, ICU data, the
 * rest of the read-only data, the dynamic symbol tables), shared libraries, malloc's heap and the
 * other anonymous memory (V8's heap, thread arenas, stacks). Built from /proc/<pid>/maps and the
 * present bits of /proc/<pid>/pagemap (readable for one's own processes), so it names exactly the
 * pages that count in VmRSS. Linux only; needs `readelf` and `nm` (binutils) for the executable's
 * section and ICU symbol addresses.
 */
export type ResidentMap = Record<string, number>;

const PAGE = 4096;
const PRESENT = 1n << 63n;

interface Range {
  name: string;
  start: number;
  end: number;
}

const elfCache = new Map<string, Range[]>();

/** The executable's address ranges by role, from its section headers (non-PIE: addresses are final). */
function executableRanges(file: string): Range[] {
  const cached = elfCache.get(file);
  if (cached) return cached;
  const sections = new Map<string, { addr: number; size: number }>();
  for (const line of execFileSync('readelf', ['-SW', file], { encoding: 'utf8' }).split('\n')) {
    const m = /\]\s+(\S+)\s+\S+\s+([0-9a-f]{16})\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(line);
    if (m) sections.set(m[1], { addr: parseInt(m[2], 16), size: parseInt(m[3], 16) });
  }
  const icuLine = execFileSync('nm', ['-S', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    .split('\n')
    .find((l) => /\sicudt\d+_dat$/.test(l));
  const ranges: Range[] = [];
  const text = sections.get('.text');
  const rodata = sections.get('.rodata');
  if (text) ranges.push({ name: 'exe: machine code (.text)', start: text.addr, end: text.addr + text.size });
  if (icuLine) {
    const [addr, size] = icuLine.split(' ');
    const start = parseInt(addr, 16);
    ranges.push({ name: 'exe: ICU data', start, end: start + parseInt(size, 16) });
  }
  if (rodata)
    ranges.push({ name: 'exe: other read-only data', start: rodata.addr, end: rodata.addr + rodata.size });
  const ehFrame = sections.get('.eh_frame');
  const ehHdr = sections.get('.eh_frame_hdr');
  if (ehFrame && ehHdr)
    ranges.push({ name: 'exe: unwind tables', start: ehHdr.addr, end: ehFrame.addr + ehFrame.size });
  const firstCode = sections.get('.init') ?? text;
  if (firstCode)
    ranges.push({ name: 'exe: ELF header, dynamic symbols, relocations', start: 0, end: firstCode.addr });
  elfCache.set(file, ranges);
  return ranges;
}

/** Resident KiB per role for one process. */
export function residentMap(pid: number): ResidentMap {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  const ranges = executableRanges(exe);
  const out: ResidentMap = {};
  const add = (name: string, kb: number) => {
    if (kb) out[name] = (out[name] ?? 0) + kb;
  };
  const pagemap = openSync(`/proc/${pid}/pagemap`, 'r');
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (!m) continue;
      const start = parseInt(m[1], 16);
      const end = parseInt(m[2], 16);
      const path = m[4];
      const pages = (end - start) / PAGE;
      // Reserved address space (V8's cage) and the kernel's [vsyscall] page: nothing to read.
      if (pages > 1 << 22 || start >= 2 ** 47) continue;
      const buffer = Buffer.alloc(pages * 8);
      readSync(pagemap, buffer, 0, buffer.length, (start / PAGE) * 8);
      const classify = (address: number): string => {
        if (path === exe) {
          const range = ranges.find((r) => address >= r.start && address < r.end);
          if (range) return range.name;
          return m[3].includes('w') ? 'exe: writable data' : 'exe: other';
        }
        if (path === '[heap]') return 'anon: malloc main heap ([heap])';
        if (path === '[stack]') return 'anon: main stack';
        if (path.startsWith('/'))
          return `lib: ${path.slice(path.lastIndexOf('/') + 1).replace(/\.so.*/, '')}`;
        if (path.startsWith('[')) return `other: ${path}`;
        return 'anon: other (V8 heap, thread arenas, thread stacks)';
      };
      for (let i = 0; i < pages; i++)
        if (buffer.readBigUInt64LE(i * 8) & PRESENT) add(classify(start + i * PAGE), 4);
    }
  } finally {
    closeSync(pagemap);
  }
  return out;
}
