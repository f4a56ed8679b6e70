import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ChecksumMismatchError,
  DataFormatError,
  loadCifarFolder,
  parseCifarRecords,
  parseIdx,
  parseNpy,
  parseNpz,
  readCifarArchive,
  readIdx,
} from "../lib/data/mod.ts";
import { readTarEntries } from "../lib/data/tar.ts";
import {
  cifarRecords,
  concat,
  gzip,
  idxBytes,
  npyBytes,
  tarBytes,
  zipBytes,
} from "./data_fixtures.ts";
import { createHash } from "node:crypto";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function rejectsFormat(
  promise: Promise<unknown> | (() => unknown),
  pattern: RegExp,
) {
  const run = typeof promise === "function"
    ? async () => await promise()
    : () => promise;
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, `not a DataFormatError: ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

// ---- IDX ----

const images3 = Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 10);

Deno.test("idx: parses uint8 images, raw and gzipped, as views", async () => {
  const raw = idxBytes(0x08, [3, 2, 2], images3);
  const parsed = parseIdx(raw);
  assert.equal(parsed.dtype, "uint8");
  assert.deepEqual(parsed.shape, [3, 2, 2]);
  assert.deepEqual([...parsed.data], [...images3]);
  assert.equal((parsed.data as Uint8Array).buffer, raw.buffer); // no copy
  const fromGzip = await readIdx(await gzip(raw), { label: "x.gz" });
  assert.deepEqual(fromGzip.shape, [3, 2, 2]);
  assert.deepEqual([...fromGzip.data], [...images3]);
});

Deno.test("idx: limit keeps a prefix and decompresses only what it needs", async () => {
  const gz = await gzip(idxBytes(0x08, [3, 2, 2], images3));
  const first = await readIdx(gz, { limit: 2 });
  assert.deepEqual(first.shape, [2, 2, 2]);
  assert.deepEqual([...first.data], [...images3.subarray(0, 8)]);
  assert.equal(first.data.buffer.byteLength <= 64 * 1024, true);
  assert.deepEqual((await readIdx(gz, { limit: 99 })).shape, [3, 2, 2]);
});

Deno.test("idx: decodes big-endian int32, float32, int16 and float64", () => {
  const body = new Uint8Array(8);
  const view = new DataView(body.buffer);
  view.setInt32(0, -5);
  view.setInt32(4, 70000);
  assert.deepEqual([...parseIdx(idxBytes(0x0c, [2], body)).data], [-5, 70000]);
  view.setFloat32(0, 1.5);
  view.setFloat32(4, -0.25);
  const f = parseIdx(idxBytes(0x0d, [1, 2], body));
  assert.equal(f.dtype, "float32");
  assert.deepEqual([...f.data], [1.5, -0.25]);
  view.setInt16(0, -2);
  view.setInt16(2, 300);
  assert.deepEqual(
    [...parseIdx(idxBytes(0x0b, [2], body.subarray(0, 4))).data],
    [-2, 300],
  );
  view.setFloat64(0, Math.PI);
  assert.deepEqual([...parseIdx(idxBytes(0x0e, [1], body)).data], [Math.PI]);
});

Deno.test("idx: rejects wrong magic, unknown type, truncation, trailing bytes", async () => {
  const good = idxBytes(0x08, [3, 2, 2], images3);
  const wrongMagic = good.slice();
  wrongMagic[0] = 0x12;
  await rejectsFormat(
    () => parseIdx(wrongMagic, { label: "bad.idx" }),
    /bad\.idx: wrong IDX magic/,
  );
  const unknownType = good.slice();
  unknownType[2] = 0x07;
  await rejectsFormat(
    () => parseIdx(unknownType),
    /unknown IDX element type 0x7/,
  );
  await rejectsFormat(
    () => parseIdx(good.subarray(0, good.length - 1)),
    /truncated.*\[3, 2, 2\]/,
  );
  await rejectsFormat(
    () => parseIdx(good.subarray(0, 10)),
    /truncated IDX header/,
  );
  await rejectsFormat(
    () => parseIdx(concat(good, new Uint8Array(3))),
    /trailing bytes/,
  );
  // The file name appears in the message, so the user knows which file to fix.
  await rejectsFormat(
    () => parseIdx(new Uint8Array(2), { label: "t10k.gz" }),
    /^t10k\.gz/,
  );
});

Deno.test("idx: truncated or corrupt gzip is a clear DataFormatError", async () => {
  const gz = await gzip(idxBytes(0x08, [3, 2, 2], images3));
  await rejectsFormat(
    readIdx(gz.subarray(0, gz.length - 6), { label: "cut.gz" }),
    /cut\.gz: corrupt or truncated gzip/,
  );
  const flipped = gz.slice();
  flipped[gz.length - 7] ^= 0xff; // Inside the CRC-32 trailer.
  await rejectsFormat(readIdx(flipped), /corrupt or truncated gzip/);
});

// ---- NPY ----

Deno.test("npy: parses uint8, int64, float32 and big-endian int32", () => {
  const u8 = parseNpy(npyBytes("|u1", [2, 3], Uint8Array.of(1, 2, 3, 4, 5, 6)));
  assert.equal(u8.dtype, "uint8");
  assert.deepEqual(u8.shape, [2, 3]);
  assert.deepEqual([...u8.data], [1, 2, 3, 4, 5, 6]);
  const i8 = parseNpy(
    npyBytes("<i8", [3], new Uint8Array(BigInt64Array.of(7n, -1n, 9n).buffer)),
  );
  assert.equal(i8.dtype, "int64");
  assert.deepEqual([...i8.data], [7n, -1n, 9n]);
  const f4 = parseNpy(
    npyBytes("<f4", [2], new Uint8Array(Float32Array.of(0.5, -2).buffer)),
  );
  assert.deepEqual([...f4.data], [0.5, -2]);
  const be = new Uint8Array(8);
  new DataView(be.buffer).setInt32(0, 258);
  new DataView(be.buffer).setInt32(4, -3);
  assert.deepEqual([...parseNpy(npyBytes(">i4", [2], be)).data], [258, -3]);
  const scalar = parseNpy(npyBytes("|u1", [], Uint8Array.of(42)));
  assert.deepEqual(scalar.shape, []);
  assert.deepEqual([...scalar.data], [42]);
});

Deno.test("npy: Fortran-order arrays come back in C order", () => {
  // C-order [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6.
  const array = parseNpy(
    npyBytes("|u1", [2, 3], Uint8Array.of(1, 4, 2, 5, 3, 6), true),
  );
  assert.equal(array.fortranOrder, true);
  assert.deepEqual([...array.data], [1, 2, 3, 4, 5, 6]);
});

Deno.test("npy: rejects bad magic, unsupported dtype, truncated data", async () => {
  const good = npyBytes("|u1", [4], Uint8Array.of(1, 2, 3, 4));
  const bad = good.slice();
  bad[1] = 0x41;
  await rejectsFormat(
    () => parseNpy(bad, { label: "a.npy" }),
    /a\.npy: not a \.npy array/,
  );
  await rejectsFormat(
    () => parseNpy(npyBytes("<c8", [1], new Uint8Array(8))),
    /unsupported dtype '<c8'/,
  );
  await rejectsFormat(
    () => parseNpy(good.subarray(0, good.length - 1)),
    /truncated: shape \[4\]/,
  );
  await rejectsFormat(
    () => parseNpy(good.subarray(0, 40)),
    /truncated \.npy header/,
  );
});

// ---- NPZ ----

Deno.test("npz: reads stored and deflated entries", async () => {
  const images = Uint8Array.from(
    { length: 2 * 3 * 3 },
    (_, i) => (i * 7) % 256,
  );
  const labels = new Uint8Array(BigInt64Array.of(3n, 9n).buffer);
  const npz = await zipBytes([
    { name: "arr_0.npy", data: npyBytes("|u1", [2, 3, 3], images) },
    { name: "labels.npy", data: npyBytes("<i8", [2], labels), deflate: true },
  ]);
  const arrays = await parseNpz(npz, { label: "t.npz" });
  assert.deepEqual([...arrays.keys()], ["arr_0", "labels"]);
  assert.deepEqual(arrays.get("arr_0")!.shape, [2, 3, 3]);
  assert.deepEqual([...arrays.get("arr_0")!.data], [...images]);
  assert.deepEqual([...arrays.get("labels")!.data], [3n, 9n]);
});

Deno.test("npz: deflated large entry round-trips", async () => {
  const big = Uint8Array.from({ length: 300_000 }, (_, i) => (i * i) % 251);
  const npz = await zipBytes([
    {
      name: "arr_0.npy",
      data: npyBytes("|u1", [300, 1000], big),
      deflate: true,
    },
  ]);
  assert.ok(npz.length < big.length);
  const array = (await parseNpz(npz)).get("arr_0")!;
  assert.equal(sha256(array.data as Uint8Array), sha256(big));
});

Deno.test("npz: rejects truncated archives, wrong entry sizes and corrupt deflate data", async () => {
  const data = npyBytes(
    "|u1",
    [64],
    Uint8Array.from({ length: 64 }, (_, i) => i),
  );
  const stored = await zipBytes([{ name: "arr_0.npy", data }]);
  await rejectsFormat(
    parseNpz(stored.subarray(0, stored.length - 30), { label: "x.npz" }),
    /x\.npz: not a zip\/npz archive, or truncated/,
  );
  // A flipped data byte is the file checksum's to catch (fetchFile verifies
  // SHA-256 before parsing; fflate skips entries' CRC-32); a size that
  // disagrees with the directory is the reader's.
  const resized = stored.slice();
  const eocd = resized.length - 22;
  const central = new DataView(resized.buffer).getUint32(eocd + 16, true);
  new DataView(resized.buffer).setUint32(central + 24, data.length + 1, true);
  await rejectsFormat(
    parseNpz(resized),
    /entry is \d+ bytes, the directory says/,
  );
  const deflated = await zipBytes([{ name: "arr_0.npy", data, deflate: true }]);
  const broken = deflated.slice();
  for (let i = 39; i < 45; i++) broken[i] = 0xff; // Garble the deflate stream.
  await rejectsFormat(parseNpz(broken), /corrupt|entry is/);
  await rejectsFormat(parseNpz(new Uint8Array(100)), /not a zip/);
  const noArrays = await zipBytes([{
    name: "readme.txt",
    data: Uint8Array.of(1),
  }]);
  await rejectsFormat(parseNpz(noArrays), /holds no \.npy arrays/);
});

// ---- tar + CIFAR-10 ----

function cifarTar(): Uint8Array {
  return tarBytes([
    {
      name: "cifar-10-batches-bin/batches.meta.txt",
      data: new TextEncoder().encode("airplane\n"),
    },
    {
      name: "cifar-10-batches-bin/data_batch_2.bin",
      data: cifarRecords([5, 6, 7]),
    },
    {
      name: "cifar-10-batches-bin/data_batch_1.bin",
      data: cifarRecords([0, 1]),
    },
    { name: "cifar-10-batches-bin/test_batch.bin", data: cifarRecords([9]) },
  ]);
}

const streamOf = (bytes: Uint8Array) =>
  new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();

Deno.test("cifar: records decode to NHWC with labels", () => {
  const { images, labels, count } = parseCifarRecords(cifarRecords([3, 8]));
  assert.equal(count, 2);
  assert.deepEqual([...labels], [3, 8]);
  // Record 0: pixel p of channel c holds (p + c) % 256; NHWC puts channels last.
  assert.deepEqual([...images.subarray(0, 6)], [0, 1, 2, 1, 2, 3]);
  assert.deepEqual([...images.subarray(3 * 1023, 3 * 1024)], [255, 0, 1]);
  assert.deepEqual([...images.subarray(3072, 3075)], [6, 7, 8]);
  assert.equal(
    parseCifarRecords(cifarRecords([1, 2, 3]), { limit: 1 }).count,
    1,
  );
});

Deno.test("cifar: rejects partial records and labels above 9", async () => {
  await rejectsFormat(
    () => parseCifarRecords(new Uint8Array(3073 + 5), { label: "b.bin" }),
    /b\.bin: 3078 bytes is not a whole number/,
  );
  await rejectsFormat(
    () => parseCifarRecords(cifarRecords([1, 10])),
    /record 1 has label 10/,
  );
});

Deno.test("tar: lists entries and reads members from a gzipped stream", async () => {
  const tgz = await gzip(cifarTar());
  const names: string[] = [];
  let test: Uint8Array | undefined;
  const stream = streamOf(tgz).pipeThrough(new DecompressionStream("gzip"));
  for await (const entry of readTarEntries(stream)) {
    names.push(entry.name);
    if (entry.name.endsWith("test_batch.bin")) test = await entry.bytes();
  }
  assert.deepEqual(names.map((n) => n.split("/")[1]), [
    "batches.meta.txt",
    "data_batch_2.bin",
    "data_batch_1.bin",
    "test_batch.bin",
  ]);
  assert.equal(test!.length, 3073);
  assert.equal(test![0], 9);
});

Deno.test("cifar: reads members from a .tar.gz in the requested order, with limit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "cifar.tar.gz");
    await Deno.writeFile(path, await gzip(cifarTar()));
    const members = [1, 2].map((i) =>
      `cifar-10-batches-bin/data_batch_${i}.bin`
    );
    const train = await readCifarArchive(path, members);
    assert.equal(train.count, 5);
    assert.deepEqual([...train.labels], [0, 1, 5, 6, 7]);
    assert.equal(train.images.length, 5 * 3072);
    const two = await readCifarArchive(path, members, { limit: 3 });
    assert.deepEqual([...two.labels], [0, 1, 5]);
    await rejectsFormat(
      readCifarArchive(path, ["cifar-10-batches-bin/nope.bin"]),
      /lacks cifar-10-batches-bin\/nope\.bin/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tar: corrupt headers and truncated archives are DataFormatErrors", async () => {
  const tar = cifarTar();
  const corrupt = tar.slice();
  corrupt[5] ^= 0x55; // Name byte of the first header: checksum no longer matches.
  const read = async (bytes: Uint8Array) => {
    for await (const e of readTarEntries(streamOf(bytes), { label: "c.tar" })) {
      await e.bytes();
    }
  };
  await rejectsFormat(read(corrupt), /c\.tar: corrupt tar header at byte 0/);
  await rejectsFormat(read(tar.subarray(0, 512 + 2000)), /truncated archive/);
  await rejectsFormat(read(tar.subarray(0, 700)), /truncated archive/);
  const tgz = await gzip(tar);
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "cut.tar.gz");
    await Deno.writeFile(path, tgz.subarray(0, Math.floor(tgz.length / 2)));
    await rejectsFormat(
      readCifarArchive(path, ["cifar-10-batches-bin/test_batch.bin"]),
      /cut\.tar\.gz: (cannot read the archive|truncated)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cifar: loose batch folder of any record count, checked against SHA256SUMS", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "cifar10-subset");
    await Deno.mkdir(dir);
    const b1 = cifarRecords([1, 2, 3]);
    const b2 = cifarRecords([4]);
    const t = cifarRecords([9, 8]);
    await Deno.writeFile(join(dir, "data_batch_10.bin"), b2);
    await Deno.writeFile(join(dir, "data_batch_2.first3.bin"), b1);
    await Deno.writeFile(join(dir, "test_batch.first2.bin"), t);
    await Deno.writeTextFile(join(dir, "batches.meta.txt"), "airplane\n");
    const train = await loadCifarFolder(dir, "train");
    // Natural order: batch 2 before batch 10.
    assert.deepEqual([...train.labels], [1, 2, 3, 4]);
    assert.equal(train.count, 4);
    assert.deepEqual([train.height, train.width, train.channels], [32, 32, 3]);
    assert.match(
      train.note!,
      /not the official 50000-image split; no checksum list/,
    );
    assert.equal((await loadCifarFolder(dir, "train", { limit: 2 })).count, 2);
    assert.deepEqual([...(await loadCifarFolder(dir, "test")).labels], [9, 8]);
    // A SHA256SUMS in the parent (as in the shared mirror) is honoured.
    await Deno.writeTextFile(
      join(root, "SHA256SUMS"),
      `${sha256(t)}  ${t.length}  cifar10-subset/test_batch.first2.bin\n` +
        `${
          "0".repeat(64)
        }  ${b1.length}  cifar10-subset/data_batch_2.first3.bin\n`,
    );
    assert.match(
      (await loadCifarFolder(dir, "test")).note!,
      /checked against SHA256SUMS/,
    );
    await assert.rejects(loadCifarFolder(dir, "train"), (e: unknown) => {
      assert.ok(e instanceof ChecksumMismatchError);
      assert.match(
        e.message,
        /data_batch_2\.first3\.bin failed verification: expected sha256 0{64}/,
      );
      return true;
    });
    await Deno.writeFile(
      join(dir, "test_batch.first2.bin"),
      t.subarray(0, 5000),
    );
    await assert.rejects(
      loadCifarFolder(dir, "test", { verify: false }),
      DataFormatError,
    );
    await rejectsFormat(
      loadCifarFolder(root, "test"),
      /no CIFAR-10 test batch files/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
