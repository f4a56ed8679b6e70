import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  cachePath,
  checkCachedFile,
  ChecksumMismatchError,
  type DataFile,
  DataUnavailableError,
  fetchFile,
  type FetchFileOptions,
} from "../lib/data/mod.ts";

const CONTENT = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) % 251);
const SHA = createHash("sha256").update(CONTENT).digest("hex");

/** A local HTTP server whose paths misbehave in the ways the fetcher must survive. */
function startServer() {
  const hits = new Map<string, number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const path = new URL(request.url).pathname;
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      const full = () =>
        new Response(CONTENT, {
          headers: { "content-length": String(CONTENT.length) },
        });
      // Sends the first half, then breaks the connection.
      const cut = () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(CONTENT.slice(0, CONTENT.length / 2));
              setTimeout(() => controller.close(), 20);
            },
          }),
          { headers: { "content-length": String(CONTENT.length) } },
        );
      switch (path) {
        case "/ok":
          return full();
        case "/flaky": // Two server errors, then the file.
          return n <= 2 ? new Response("busy", { status: 503 }) : full();
        case "/cut":
          return cut();
        case "/cut-once":
          return n === 1 ? cut() : full();
        case "/wrong": { // Right size, wrong bytes.
          const wrong = CONTENT.slice();
          wrong[1000] ^= 1;
          return new Response(wrong);
        }
        case "/stall": // Half the file, then silence.
          return new Response(
            new ReadableStream({
              start(c) {
                c.enqueue(CONTENT.slice(0, 1000));
              },
            }),
          );
        default:
          return new Response("not found", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return { server, hits, base };
}

function fileAt(urls: string[], name = "fixture.bin"): DataFile {
  return { dataset: "mnist", name, urls, size: CONTENT.length, sha256: SHA };
}

/** Files in the cache folder of the fixture dataset (no temporary leftovers allowed). */
async function cacheListing(dataDir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(join(dataDir, "mnist"))) {
      names.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

async function withSetup(
  fn: (
    ctx: {
      base: string;
      hits: Map<string, number>;
      dataDir: string;
      options: FetchFileOptions;
    },
  ) => Promise<void>,
) {
  const { server, hits, base } = startServer();
  const dataDir = await Deno.makeTempDir();
  try {
    await fn({
      base,
      hits,
      dataDir,
      options: {
        dataDir,
        mirror: null,
        offline: false,
        progress: false,
        retryDelayMs: 5,
        idleTimeoutMs: 2000,
      },
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("fetch: downloads, verifies, stamps, then serves from the cache", async () => {
  await withSetup(async ({ base, hits, dataDir, options }) => {
    const file = fileAt([`${base}/ok`]);
    const events: number[] = [];
    const first = await fetchFile(file, {
      ...options,
      progress: (p) => events.push(p.received),
    });
    assert.equal(first.source, "network");
    assert.equal(first.from, `${base}/ok`);
    assert.deepEqual(await Deno.readFile(first.path), CONTENT);
    assert.equal(events.at(-1), CONTENT.length);
    assert.deepEqual(await cacheListing(dataDir), [
      "fixture.bin",
      "fixture.bin.verified",
    ]);
    const again = await fetchFile(file, options);
    assert.equal(again.source, "cache");
    assert.equal(hits.get("/ok"), 1);
  });
});

Deno.test("fetch: the mirror is tried first; a bad mirror copy falls back to the network", async () => {
  await withSetup(async ({ base, hits, dataDir, options }) => {
    const mirror = await Deno.makeTempDir();
    try {
      await Deno.mkdir(join(mirror, "mnist"));
      await Deno.writeFile(join(mirror, "mnist", "fixture.bin"), CONTENT);
      const good = await fetchFile(fileAt([`${base}/ok`]), {
        ...options,
        mirror,
      });
      assert.equal(good.source, "mirror");
      assert.equal(hits.get("/ok"), undefined);
      // A truncated mirror copy is not used: the network provides the file.
      await Deno.writeFile(
        join(mirror, "mnist", "other.bin"),
        CONTENT.subarray(0, 5000),
      );
      const other = await fetchFile(fileAt([`${base}/ok`], "other.bin"), {
        ...options,
        mirror,
      });
      assert.equal(other.source, "network");
      assert.deepEqual(await Deno.readFile(other.path), CONTENT);
      assert.deepEqual(await cacheListing(dataDir), [
        "fixture.bin",
        "fixture.bin.verified",
        "other.bin",
        "other.bin.verified",
      ]);
    } finally {
      await Deno.remove(mirror, { recursive: true });
    }
  });
});

Deno.test("fetch: an interrupted transfer is retried; nothing half-written is left", async () => {
  await withSetup(async ({ base, hits, dataDir, options }) => {
    const result = await fetchFile(fileAt([`${base}/cut-once`]), options);
    assert.equal(result.source, "network");
    assert.equal(hits.get("/cut-once"), 2);
    assert.deepEqual(await Deno.readFile(result.path), CONTENT);

    const file = fileAt([`${base}/cut`], "cut.bin");
    await assert.rejects(fetchFile(file, options), (e: unknown) => {
      assert.ok(e instanceof DataUnavailableError, String(e));
      assert.match(e.message, /could not be obtained/);
      assert.match(
        e.message,
        /transfer (interrupted|ended) after \d+ of 200000 bytes/,
      );
      assert.match(e.message, /place it at .*cut\.bin/);
      return true;
    });
    assert.equal(hits.get("/cut"), 3);
    assert.deepEqual(await cacheListing(dataDir), [
      "fixture.bin",
      "fixture.bin.verified",
    ]);
  });
});

Deno.test("fetch: a stalled transfer times out instead of hanging", async () => {
  await withSetup(async ({ base, dataDir, options }) => {
    const file = fileAt([`${base}/stall`], "stall.bin");
    await assert.rejects(
      fetchFile(file, { ...options, idleTimeoutMs: 150, attempts: 1 }),
      DataUnavailableError,
    );
    assert.deepEqual(await cacheListing(dataDir), []);
  });
});

Deno.test("fetch: checksum mismatch is reported with both checksums and not retried", async () => {
  await withSetup(async ({ base, hits, dataDir, options }) => {
    const file = fileAt([`${base}/wrong`]);
    await assert.rejects(fetchFile(file, options), (e: unknown) => {
      assert.ok(e instanceof ChecksumMismatchError, String(e));
      assert.match(e.message, /fixture\.bin/);
      assert.match(e.expected, new RegExp(`sha256 ${SHA}`));
      assert.match(e.actual, /200000 bytes, sha256 [0-9a-f]{64}/);
      assert.notEqual(e.actual.slice(-64), SHA);
      assert.match(e.message, /place it at/);
      return true;
    });
    assert.equal(hits.get("/wrong"), 1);
    assert.deepEqual(await cacheListing(dataDir), []);
  });
});

Deno.test("fetch: server errors are retried; 404 moves on to the next URL", async () => {
  await withSetup(async ({ base, hits, options }) => {
    const result = await fetchFile(fileAt([`${base}/flaky`]), options);
    assert.equal(result.source, "network");
    assert.equal(hits.get("/flaky"), 3);

    const second = await fetchFile(
      fileAt([`${base}/gone`, `${base}/ok`], "two.bin"),
      options,
    );
    assert.equal(second.from, `${base}/ok`);
    assert.equal(hits.get("/gone"), 1); // 404 is not transient: no retry.
  });
});

Deno.test("fetch: too few attempts for a flaky server fail cleanly", async () => {
  await withSetup(async ({ base, hits, dataDir, options }) => {
    await assert.rejects(
      fetchFile(fileAt([`${base}/flaky`]), { ...options, attempts: 2 }),
      (e: unknown) => {
        assert.ok(e instanceof DataUnavailableError);
        assert.match(e.message, /HTTP 503/);
        assert.equal(e.attempts.length, 2);
        return true;
      },
    );
    assert.equal(hits.get("/flaky"), 2);
    assert.deepEqual(await cacheListing(dataDir), []);
  });
});

Deno.test("fetch: offline without a mirror names the URL and where to put the file", async () => {
  await withSetup(async ({ base, hits, dataDir, options }) => {
    const file = fileAt([`${base}/ok`]);
    await assert.rejects(
      fetchFile(file, { ...options, offline: true }),
      (e: unknown) => {
        assert.ok(e instanceof DataUnavailableError);
        assert.equal(e.file, "fixture.bin");
        assert.match(e.message, /is not available offline \(no mirror set\)/);
        assert.ok(e.message.includes(`${base}/ok`));
        assert.ok(e.message.includes(cachePath(file, { dataDir })));
        assert.ok(e.message.includes(SHA));
        return true;
      },
    );
    assert.equal(hits.size, 0);
  });
});

Deno.test("fetch: a corrupted cached file is detected, set aside and replaced", async () => {
  await withSetup(async ({ base, dataDir, options }) => {
    const file = fileAt([`${base}/ok`]);
    const { path } = await fetchFile(file, options);
    // Same size, one byte changed, and a new mtime: the stamp must not vouch for it.
    const bad = CONTENT.slice();
    bad[7] ^= 0xff;
    await new Promise((r) => setTimeout(r, 20));
    await Deno.writeFile(path, bad);
    const status = await checkCachedFile(file, { dataDir });
    assert.equal(status.state, "corrupt");
    const again = await fetchFile(file, options);
    assert.equal(again.source, "network");
    assert.deepEqual(await Deno.readFile(path), CONTENT);
    assert.deepEqual(await Deno.readFile(`${path}.corrupt`), bad);
    // A size change is caught without hashing, whatever the stamp says.
    await Deno.writeFile(path, CONTENT.subarray(1));
    assert.equal((await checkCachedFile(file, { dataDir })).state, "corrupt");
  });
});

Deno.test("fetch: concurrent requests for one file share one download", async () => {
  await withSetup(async ({ base, hits, options }) => {
    const file = fileAt([`${base}/ok`]);
    const [a, b] = await Promise.all([
      fetchFile(file, options),
      fetchFile(file, options),
    ]);
    assert.equal(a.path, b.path);
    assert.equal(hits.get("/ok"), 1);
  });
});
