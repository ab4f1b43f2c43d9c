#!/usr/bin/env node
'use strict';
/**
 * Builds what customers' hosts run (docs/agent-distribution.md):
 *
 *   dist/agent/bundle/main.js              the agent and what its types need, one CommonJS file
 *   dist/agent/bundle/chunks/<lib>.js      dockerode, @kubernetes/client-node, ssh2, the OTLP protocol: loaded only when needed
 *   dist/agent/rca-agent-bundle.tgz        the bundle as served to install.sh's Node fallback
 *   dist/agent/rca-agent-linux-x64         a Node single executable application of the bundle (Linux x64 only)
 *   dist/agent/rca-agent-lambda-layer.zip  the Lambda extension layer: extensions/rca-agent + rca-agent/ (the bundle)
 *   dist/agent/manifest.json               file names, sizes and SHA-256 the platform pins in its commands
 *
 * Reproducible: the same sources, lockfile and Node binary give the same bytes (no timestamps, sorted
 * tar entries, no absolute paths). Skipped when the hash of its inputs matches the last build's, so
 * `npm run build` and ensure-built stay cheap. `--no-binary` skips the executable; `--force` rebuilds; `--out <dir>` writes elsewhere.
 */
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const argv = process.argv.slice(2);
const root = path.resolve(__dirname, '..');
const outDir = argv.includes('--out')
  ? path.resolve(argv[argv.indexOf('--out') + 1])
  : path.join(root, 'dist', 'agent');
const bundleDir = path.join(outDir, 'bundle');
const hashFile = path.join(outDir, '.input-hash');
const BUNDLE_TGZ = 'rca-agent-bundle.tgz';
const BINARY = 'rca-agent-linux-x64';
const LAMBDA_LAYER = 'rca-agent-lambda-layer.zip';
/** The lambda type's launcher: Lambda starts every file in the layer's extensions/ at init. */
const LAMBDA_LAUNCHER = path.join(root, 'libs', 'agent-core', 'src', 'lambda', 'layer', 'rca-agent.sh');
/** Fixed mtime for tar entries: the archive must not change with the time of the build. */
const EPOCH = new Date('2000-01-01T00:00:00Z');
/** Type runtimes kept out of main.js: each becomes chunks/<name>.js, required on first use. */
const CHUNKS = {
  dockerode: 'dockerode',
  '@kubernetes/client-node': 'kubernetes-client',
  ssh2: 'ssh2',
  // The OTLP protocol (protobufjs code generated from the OTLP .proto files): only when RCA_OTLP_ADDRESS is set.
  '@opentelemetry/otlp-transformer/build/src/generated/root': 'otlp-protocol',
};
/** Node 20's single-executable fuse (postject must flip exactly this string). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const args = new Set(argv);
const wantBinary = !args.has('--no-binary') && process.platform === 'linux' && process.arch === 'x64';

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

function sourceFiles(dir, out = []) {
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!['node_modules', 'testdata'].includes(entry.name)) sourceFiles(full, out);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) out.push(full);
  }
  return out;
}

/** Everything that can change the output: sources, lockfile, tsconfig, this script, the Node binary. */
function inputHash() {
  const hash = createHash('sha256');
  const files = [
    ...sourceFiles(path.join(root, 'apps', 'agent', 'src')),
    ...sourceFiles(path.join(root, 'libs')),
    LAMBDA_LAUNCHER,
    path.join(root, 'package-lock.json'),
    path.join(root, 'tsconfig.json'),
    __filename,
  ];
  for (const file of files) hash.update(path.relative(root, file)).update('\0').update(fs.readFileSync(file));
  hash.update(`node ${process.version} ${process.platform}-${process.arch} binary=${wantBinary}`);
  // The executable embeds this Node binary: its size and mtime stand for its bytes (hashing 100 MB each run is slow).
  if (wantBinary) {
    const { size, mtimeMs } = fs.statSync(process.execPath);
    hash.update(`${process.execPath} ${size} ${mtimeMs}`);
  }
  return hash.digest('hex');
}

/**
 * Native addons (ssh2's optional crypto, cpu-features) and optional native helpers (ws's bufferutil and
 * utf-8-validate, systeminformation's macOS sensors) are not shipped: their require throws, as when
 * they are not installed, and the JS fallback runs. Stubs instead of bare requires also keep the
 * executable from warning that it cannot load modules from disk.
 */
const OPTIONAL_NATIVE =
  /\.node$|^(bufferutil|utf-8-validate|osx-temperature-sensor|macos-temperature-sensor)$/;
const noNativeAddons = {
  name: 'no-native-addons',
  setup(build) {
    build.onResolve({ filter: OPTIONAL_NATIVE }, ({ path: name }) => ({
      path: name,
      namespace: 'no-native',
    }));
    build.onLoad({ filter: /.*/, namespace: 'no-native' }, ({ path: name }) => ({
      contents: `throw new Error(${JSON.stringify(`${name} is not shipped with rca-agent`)});`,
      loader: 'js',
    }));
  },
};

/**
 * nats' Node entry polyfills web streams when `typeof globalThis.ReadableStream` is "undefined". On Node 20
 * the global always exists, but reading it loads Node's whole web streams implementation (~0.7 MiB
 * resident) for the object store, which the agent never uses; the global stays there, loaded on first use.
 * The build fails if the check is not found, so a nats upgrade cannot silently bring it back.
 */
const NATS_STREAMS_CHECK = 'typeof globalThis.ReadableStream === "undefined"';
const natsWithoutStreamsProbe = {
  name: 'nats-without-streams-probe',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]nats[\\/]lib[\\/]src[\\/]mod\.js$/ }, ({ path: file }) => {
      const source = fs.readFileSync(file, 'utf8');
      if (!source.includes(NATS_STREAMS_CHECK))
        throw new Error(`${file} no longer holds \`${NATS_STREAMS_CHECK}\`: review natsWithoutStreamsProbe`);
      return { contents: source.replace(NATS_STREAMS_CHECK, 'false'), loader: 'js' };
    });
  },
};

/**
 * `require('dockerode')` in main.js becomes a load of chunks/dockerode.js: from the file next to
 * main.js, or from the executable's embedded assets when running as the Linux binary.
 */
const lazyChunks = {
  name: 'lazy-chunks',
  setup(build) {
    const filter = new RegExp(
      `^(${Object.keys(CHUNKS)
        .map((n) => n.replace(/[/@-]/g, '\\$&'))
        .join('|')})$`,
    );
    build.onResolve({ filter }, ({ path: name }) => ({ path: CHUNKS[name], namespace: 'chunk' }));
    build.onLoad({ filter: /.*/, namespace: 'chunk' }, ({ path: chunk }) => ({
      contents: `module.exports = require('rca-chunk-loader').loadChunk(${JSON.stringify(chunk)});`,
      loader: 'js',
      resolveDir: root,
    }));
    build.onResolve({ filter: /^rca-chunk-loader$/ }, () => ({ path: 'loader', namespace: 'chunk-loader' }));
    build.onLoad({ filter: /.*/, namespace: 'chunk-loader' }, () => ({
      loader: 'js',
      contents: `
const { join } = require('node:path');
const vm = require('node:vm');
let sea;
try { sea = require('node:sea'); } catch { sea = undefined; }
exports.loadChunk = (name) => {
  if (sea && sea.isSea()) {
    const code = sea.getAsset(name + '.js', 'utf8');
    const module = { exports: {} };
    const filename = 'rca-agent:chunks/' + name + '.js';
    vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename })(
      module.exports, require, module, filename, '.');
    return module.exports;
  }
  return require(join(__dirname, 'chunks', name + '.js'));
};`,
    }));
  },
};

async function bundle() {
  const esbuild = require('esbuild');
  fs.rmSync(bundleDir, { recursive: true, force: true });
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
    plugins: [noNativeAddons],
    // Not read by the agent's code paths, only probed by dependencies at load time.
    logOverride: { 'require-resolve-not-external': 'silent', 'empty-import-meta': 'silent' },
  };
  await esbuild.build({
    ...common,
    entryPoints: ['apps/agent/src/main.ts'],
    outfile: path.join(bundleDir, 'main.js'),
    tsconfig: 'tsconfig.json',
    plugins: [noNativeAddons, lazyChunks, natsWithoutStreamsProbe],
    // ES module builds where a package has one (class-validator, class-transformer…): esbuild can then
    // drop what the agent never calls (libphonenumber, most of validator.js), a few MB of heap.
    mainFields: ['module', 'main'],
    // The `#!/usr/bin/env node` line of main.ts is kept by esbuild.
  });
  for (const [lib, chunk] of Object.entries(CHUNKS)) {
    await esbuild.build({
      ...common,
      stdin: {
        contents: `module.exports = require(${JSON.stringify(lib)});`,
        resolveDir: root,
        loader: 'js',
      },
      outfile: path.join(bundleDir, 'chunks', `${chunk}.js`),
    });
  }
}

/** A POSIX ustar header: fixed owner, mode and mtime so the archive depends on content only. */
function tarHeader(name, size, type) {
  const header = Buffer.alloc(512);
  const field = (value, offset, length) => header.write(value, offset, length, 'ascii');
  const octal = (n, length) => n.toString(8).padStart(length - 1, '0') + '\0';
  field(name, 0, 100);
  field(octal(type === '5' ? 0o755 : 0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(size, 12), 124, 12);
  field(octal(Math.floor(EPOCH.getTime() / 1000), 12), 136, 12);
  field('        ', 148, 8);
  field(type, 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return header;
}

/** rca-agent/main.js and rca-agent/chunks/*.js as a gzip'd tar, byte-identical for identical files. */
function packBundle() {
  const parts = [tarHeader('rca-agent/', 0, '5'), tarHeader('rca-agent/chunks/', 0, '5')];
  const files = [
    'main.js',
    ...fs
      .readdirSync(path.join(bundleDir, 'chunks'))
      .sort()
      .map((f) => `chunks/${f}`),
  ];
  for (const file of files) {
    const data = fs.readFileSync(path.join(bundleDir, file));
    parts.push(
      tarHeader(`rca-agent/${file}`, data.length, '0'),
      data,
      Buffer.alloc((512 - (data.length % 512)) % 512),
    );
  }
  parts.push(Buffer.alloc(1024));
  const tgz = zlib.gzipSync(Buffer.concat(parts), { level: 9 });
  fs.writeFileSync(path.join(outDir, BUNDLE_TGZ), tgz);
  return tgz;
}

/**
 * The Lambda layer (unpacked under /opt): extensions/rca-agent, the launcher, and rca-agent/main.js with
 * its chunks. Fixed mtimes and sorted entries, so the same bundle gives the same bytes and SHA-256.
 */
async function packLambdaLayer() {
  const yazl = require('yazl');
  const zip = new yazl.ZipFile();
  zip.addBuffer(fs.readFileSync(LAMBDA_LAUNCHER), 'extensions/rca-agent', { mtime: EPOCH, mode: 0o100755 });
  const files = [
    'main.js',
    ...fs
      .readdirSync(path.join(bundleDir, 'chunks'))
      .sort()
      .map((f) => `chunks/${f}`),
  ];
  for (const file of files)
    zip.addBuffer(fs.readFileSync(path.join(bundleDir, file)), `rca-agent/${file}`, {
      mtime: EPOCH,
      mode: 0o100644,
    });
  zip.end();
  const chunks = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk);
  const data = Buffer.concat(chunks);
  fs.writeFileSync(path.join(outDir, LAMBDA_LAYER), data);
  return data;
}

/** Runs a build tool; its chatter (postject warns about ELF note names) is shown only if it fails. */
function quiet(command, commandArgs, cwd = root) {
  try {
    execFileSync(command, commandArgs, { stdio: 'pipe', cwd });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}`);
    throw error;
  }
}

/** Node's single executable application: the bundle as the main script, the chunks as assets. */
function buildBinary() {
  const work = fs.mkdtempSync(path.join(outDir, '.sea-'));
  try {
    // Paths relative to the work directory: the blob records the main script's path as given.
    const assets = {};
    for (const file of fs.readdirSync(path.join(bundleDir, 'chunks')).sort())
      assets[file] = `bundle/chunks/${file}`;
    fs.cpSync(bundleDir, path.join(work, 'bundle'), { recursive: true });
    const blob = path.join(work, 'sea.blob');
    fs.writeFileSync(
      path.join(work, 'sea-config.json'),
      JSON.stringify({
        main: 'bundle/main.js',
        output: 'sea.blob',
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: false,
        assets,
      }),
    );
    quiet(process.execPath, ['--experimental-sea-config', 'sea-config.json'], work);
    const target = path.join(work, BINARY);
    fs.copyFileSync(process.execPath, target);
    fs.chmodSync(target, 0o755);
    quiet(process.execPath, [
      require.resolve('postject/dist/cli.js'),
      target,
      'NODE_SEA_BLOB',
      blob,
      '--sentinel-fuse',
      SEA_FUSE,
    ]);
    fs.renameSync(target, path.join(outDir, BINARY));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return fs.readFileSync(path.join(outDir, BINARY));
}

function artifact(file, data) {
  return { file, size: data.length, sha256: sha256(data) };
}

async function main() {
  const hash = inputHash();
  const manifestFile = path.join(outDir, 'manifest.json');
  const cached =
    fs.existsSync(hashFile) && fs.readFileSync(hashFile, 'utf8') === hash && fs.existsSync(manifestFile);
  if (cached && !args.has('--force')) return;
  process.stderr.write(
    `Building the agent bundle${wantBinary ? ' and Linux x64 binary' : ''} (dist/agent)…\n`,
  );
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(path.join(outDir, BINARY), { force: true });
  await bundle();
  const versionSource = fs.readFileSync(path.join(root, 'libs', 'agent-core', 'src', 'version.ts'), 'utf8');
  const manifest = {
    version: /AGENT_VERSION = '([^']+)'/.exec(versionSource)[1],
    bundle: artifact(BUNDLE_TGZ, packBundle()),
    binaries: wantBinary ? { 'linux-x64': artifact(BINARY, buildBinary()) } : {},
    lambdaLayer: artifact(LAMBDA_LAYER, await packLambdaLayer()),
  };
  fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(hashFile, hash);
}

main().catch((error) => {
  process.stderr.write(`build-agent: ${error.stack ?? error}\n`);
  process.exit(1);
});
