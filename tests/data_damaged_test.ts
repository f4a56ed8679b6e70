/**
 * The data cache in a damaged or read-only state: a stamp that cannot be
 * written is a warning, a truncated or unwritable file is CORRUPT or a write
 * error (never MISSING, and `--allow-missing` does not accept it), `--list`
 * never prints a stack trace, `--verify` re-hashes regardless of stamps,
 * orphaned downloads are removed, and `DataUnavailableError` lists each source
 * once. Runs as root here, so "unwritable" is made with a file where a folder
 * belongs and a folder where a file belongs.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  cachePath,
  CacheWriteError,
  checkCachedFile,
  ChecksumMismatchError,
  type DataFile,
  DATASETS,
  DataUnavailableError,
  fetchFile,
} from "../lib/data/mod.ts";
import { processIdentity } from "../lib/_process.ts";
import { mirrorHas } from "./data_fixtures.ts";
import { runScript } from "./_cli_run.ts";

const CONTENT = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 253);
const FILE: DataFile = {
  dataset: "mnist",
  name: "fixture.bin",
  urls: ["http://127.0.0.1:9/fixture.bin"],
  size: CONTENT.length,
  sha256: createHash("sha256").update(CONTENT).digest("hex"),
};

/** A temporary cache and a mirror holding `content` as the fixture file. */
async function setup(content: Uint8Array = CONTENT) {
  const root = await Deno.makeTempDir({ prefix: "data-damaged-" });
  const mirror = join(root, "mirror");
  const dataDir = join(root, "cache");
  await Deno.mkdir(join(mirror, "mnist"), { recursive: true });
  await Deno.writeFile(join(mirror, "mnist", FILE.name), content);
  return {
    root,
    mirror,
    dataDir,
    options: { dataDir, mirror, offline: true, progress: false as const },
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
}

/** Captures console.warn while `fn` runs. */
async function warnings(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => seen.push(args.join(" "));
  try {
    await fn();
  } finally {
    console.warn = original;
  }
  return seen;
}

const dataCli = (args: string[]) => runScript("data.ts", args);

Deno.test("a .verified stamp that cannot be written is a warning, not an error", async () => {
  const s = await setup();
  try {
    const dest = cachePath(FILE, s.options);
    await Deno.mkdir(`${dest}.verified`, { recursive: true }); // unwritable
    const seen = await warnings(async () => {
      const r = await fetchFile(FILE, s.options);
      assert.equal(r.source, "mirror");
      const status = await checkCachedFile(FILE, s.options);
      assert.equal(status.state, "verified");
    });
    assert.ok(
      seen.some((w) => w.includes(`could not write ${dest}.verified`)),
      seen.join("\n"),
    );
  } finally {
    await s.cleanup();
  }
});

Deno.test("a truncated mirror file is corrupt, never missing", async () => {
  const s = await setup(CONTENT.subarray(0, 1200));
  try {
    await assert.rejects(() => fetchFile(FILE, s.options), (e: unknown) => {
      assert.ok(e instanceof ChecksumMismatchError, String(e));
      assert.match(e.message, /1200 bytes \(truncated\)/);
      return true;
    });
  } finally {
    await s.cleanup();
  }
});

Deno.test("an unwritable cache is a write error, never missing", async () => {
  const s = await setup();
  try {
    await Deno.mkdir(s.dataDir, { recursive: true });
    await Deno.writeTextFile(join(s.dataDir, "mnist"), "a file, not a folder");
    await assert.rejects(() => fetchFile(FILE, s.options), (e: unknown) => {
      assert.ok(e instanceof CacheWriteError, String(e));
      assert.match(e.message, /cannot write .*CNN_DATA_DIR/);
      return true;
    });
    // Unreadable where a file belongs: corrupt, not missing.
    const other = await setup();
    try {
      await Deno.mkdir(cachePath(FILE, other.options), { recursive: true });
      await Deno.writeFile(
        join(cachePath(FILE, other.options), "x"),
        new Uint8Array(1),
      );
      const status = await checkCachedFile(FILE, other.options);
      assert.equal(status.state, "corrupt");
    } finally {
      await other.cleanup();
    }
  } finally {
    await s.cleanup();
  }
});

Deno.test("rehash checks a file whose stamp still vouches for it", async () => {
  const s = await setup();
  try {
    const { path } = await fetchFile(FILE, s.options);
    const info = await Deno.stat(path);
    const bad = CONTENT.slice();
    bad[10] ^= 1;
    await Deno.writeFile(path, bad);
    // Same size and mtime: the stamp cannot tell.
    await Deno.utime(path, info.atime ?? new Date(), info.mtime!);
    assert.equal((await checkCachedFile(FILE, s.options)).state, "verified");
    const status = await checkCachedFile(FILE, { ...s.options, rehash: true });
    assert.equal(status.state, "corrupt");
  } finally {
    await s.cleanup();
  }
});

Deno.test("orphaned downloads are removed by the next fetch, live ones kept", async () => {
  const s = await setup();
  try {
    const dest = cachePath(FILE, s.options);
    await Deno.mkdir(join(s.dataDir, "mnist"), { recursive: true });
    const old = `${dest}.0badc0de.tmp`;
    const fresh = `${dest}.12345678.tmp`;
    await Deno.writeFile(old, new Uint8Array(10));
    await Deno.writeFile(fresh, new Uint8Array(10));
    const hourAgo = new Date(Date.now() - 3600_000);
    await Deno.utime(old, hourAgo, hourAgo);
    await fetchFile(FILE, s.options);
    const names = [...Deno.readDirSync(join(s.dataDir, "mnist"))].map((e) =>
      e.name
    ).sort();
    assert.deepEqual(names, [
      "fixture.bin",
      "fixture.bin.12345678.tmp",
      "fixture.bin.verified",
    ]);
  } finally {
    await s.cleanup();
  }
});

Deno.test("a download's temporary file names its writer: a dead writer's is removed at once, a live writer's kept", async () => {
  const s = await setup();
  const live = new Deno.Command("sleep", { args: ["60"] }).spawn();
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  try {
    const dest = cachePath(FILE, s.options);
    await Deno.mkdir(join(s.dataDir, "mnist"), { recursive: true });
    const start = processIdentity(live.pid).start ?? "0";
    const dead = `${dest}.${gone.pid}-1.0badc0de.tmp`;
    const running = `${dest}.${live.pid}-${start}.12345678.tmp`;
    // Written a second ago: too young for any age rule.
    await Deno.writeFile(dead, new Uint8Array(5_400));
    await Deno.writeFile(running, new Uint8Array(10));
    await fetchFile(FILE, s.options);
    const names = [...Deno.readDirSync(join(s.dataDir, "mnist"))].map((e) =>
      e.name
    ).sort();
    assert.deepEqual(names, [
      "fixture.bin",
      `fixture.bin.${live.pid}-${start}.12345678.tmp`,
      "fixture.bin.verified",
    ]);
  } finally {
    live.kill();
    await live.status;
    await s.cleanup();
  }
});

Deno.test("DataUnavailableError lists each source once, also when printed", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("busy", { status: 503 }),
  );
  const s = await setup();
  try {
    const url = `http://127.0.0.1:${server.addr.port}/busy`;
    const file = { ...FILE, name: "absent.bin", urls: [url] };
    await assert.rejects(
      () =>
        fetchFile(file, {
          ...s.options,
          offline: false,
          attempts: 3,
          retryDelayMs: 1,
        }),
      (e: unknown) => {
        assert.ok(e instanceof DataUnavailableError);
        assert.equal(e.attempts.length, 4); // the mirror, three tries of the URL
        const printed = Deno.inspect(e);
        const count = (text: string, part: string) =>
          text.split(part).length - 1;
        assert.equal(count(printed, "has no mnist/absent.bin"), 1, printed);
        assert.equal(count(e.message, `${url}:`), 1, e.message);
        assert.match(e.message, /HTTP 503 Service Unavailable \(3 attempts\)/);
        return true;
      },
    );
  } finally {
    await server.shutdown();
    await s.cleanup();
  }
});

Deno.test("data CLI: --list never prints a stack trace; corrupt and unwritable are never accepted", async () => {
  const s = await setup();
  try {
    // A file given as the cache folder: nothing cached, no stack trace.
    const notAFolder = join(s.root, "not-a-folder");
    await Deno.writeTextFile(notAFolder, "a file");
    const listed = await dataCli(["--list", "--dir", notAFolder]);
    assert.equal(listed.code, 0, listed.stdout + listed.stderr);
    assert.doesNotMatch(listed.stdout + listed.stderr, /^\s+at /m);
    assert.match(listed.stdout, /t10k-labels-idx1-ubyte\.gz .*not cached/);
    // A file where the dataset folder belongs: the cache cannot be written.
    await Deno.mkdir(s.dataDir, { recursive: true });
    await Deno.writeTextFile(join(s.dataDir, "mnist"), "not a folder");
    const fetched = await dataCli([
      "mnist",
      "--dir",
      s.dataDir,
      "--mirror",
      s.mirror,
      "--allow-missing",
    ]);
    assert.equal(fetched.code, 1, fetched.stdout + fetched.stderr);
    assert.match(fetched.stdout, /WRITE ERROR: cannot write/);
    assert.doesNotMatch(fetched.stdout, /MISSING/);
    assert.doesNotMatch(fetched.stdout + fetched.stderr, /^\s+at /m);

    // A truncated mirror copy: CORRUPT, and --allow-missing does not accept it.
    const t = await setup();
    try {
      const labels = DATASETS.mnist.files.find((f) =>
        f.name === "t10k-labels-idx1-ubyte.gz"
      )!;
      await Deno.writeFile(
        join(t.mirror, "mnist", labels.name),
        new Uint8Array(100),
      );
      const r = await dataCli([
        "mnist",
        "--dir",
        t.dataDir,
        "--mirror",
        t.mirror,
        "--allow-missing",
      ]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /t10k-labels-idx1-ubyte\.gz .*CORRUPT/);
    } finally {
      await t.cleanup();
    }
  } finally {
    await s.cleanup();
  }
});

Deno.test({
  name: "data CLI: --verify re-hashes what --list trusts" +
    (mirrorHas("mnist") ? "" : " (SKIP: no MNIST in CNN_DATA_MIRROR)"),
  ignore: !mirrorHas("mnist"),
  fn: async () => {
    const s = await setup();
    try {
      const mirror = Deno.env.get("CNN_DATA_MIRROR")!;
      const name = "t10k-labels-idx1-ubyte.gz";
      const fetched = await dataCli([
        "mnist",
        "--dir",
        s.dataDir,
        "--mirror",
        mirror,
      ]);
      assert.equal(fetched.code, 0, fetched.stdout + fetched.stderr);
      const path = join(s.dataDir, "mnist", name);
      const info = await Deno.stat(path);
      const bytes = await Deno.readFile(path);
      bytes[100] ^= 1;
      await Deno.writeFile(path, bytes);
      await Deno.utime(path, info.atime ?? new Date(), info.mtime!);
      const listed = await dataCli(["--list", "--dir", s.dataDir]);
      assert.match(listed.stdout, new RegExp(`${name} .*cached, verified`));
      const verified = await dataCli(["--verify", "mnist", "--dir", s.dataDir]);
      assert.equal(verified.code, 1, verified.stdout + verified.stderr);
      assert.match(verified.stdout, new RegExp(`${name} .*CORRUPT`));
      assert.match(verified.stdout, /3 verified, 1 corrupt or unreadable/);
    } finally {
      await s.cleanup();
    }
  },
});
