/**
 * Image-file prediction refuses images above a stated size before decoding
 * them, and warns when an image is blank once composited on the background.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  decodeImage,
  encodeImage,
  imageSize,
  MAX_IMAGE_PIXELS,
  predictImageFile,
  writeImageFile,
} from "../lib/eval/mod.ts";

await initBackend({ backend: "cpu", verbose: false });

function tinyModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 1] }),
      tf.layers.dense({ units: 2, activation: "softmax" }),
    ],
  });
}

Deno.test("imageSize reads PNG and JPEG headers without decoding", () => {
  const image = { data: new Uint8Array(6 * 10), height: 6, width: 10 };
  const png = encodeImage({ ...image, channels: 1 }, "png");
  const jpg = encodeImage({ ...image, channels: 1 }, "jpeg");
  assert.deepEqual(imageSize(png), { width: 10, height: 6 });
  assert.deepEqual(imageSize(jpg), { width: 10, height: 6 });
});

Deno.test("images above the size limit are refused with the limit in the message", () => {
  assert.equal(MAX_IMAGE_PIXELS, 25_000_000);
  const image = {
    data: new Uint8Array(64),
    height: 8,
    width: 8,
    channels: 1 as const,
  };
  // A PNG header claiming 6000x6000 (36 megapixels).
  const png = encodeImage(image, "png");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  view.setUint32(16, 6000);
  view.setUint32(20, 6000);
  assert.throws(
    () => decodeImage(png, "huge.png"),
    /huge\.png is 6000x6000 pixels \(36\.0 megapixels\); images above 25 megapixels .* are refused/,
  );
  // A JPEG whose start-of-frame says 10000x3000.
  const jpg = encodeImage(image, "jpeg");
  const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
  assert.ok(sof > 0, "baseline JPEG has an SOF0 marker");
  const jview = new DataView(jpg.buffer, jpg.byteOffset, jpg.byteLength);
  jview.setUint16(sof + 5, 3000);
  jview.setUint16(sof + 7, 10000);
  assert.throws(
    () => decodeImage(jpg, "wide.jpg"),
    /wide\.jpg is 10000x3000 pixels \(30\.0 megapixels\); images above 25 megapixels/,
  );
});

Deno.test("a blank image (after compositing) gives a warning; a drawn one does not", async () => {
  const dir = await Deno.makeTempDir();
  const model = tinyModel();
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => seen.push(args.join(" "));
  try {
    // Black ink, but fully transparent: white paper after compositing.
    const rgba = new Uint8Array(16 * 16 * 4);
    for (let i = 0; i < 16 * 16; i++) rgba[i * 4 + 3] = 0;
    await writeImageFile(`${dir}/transparent.png`, {
      data: rgba,
      height: 16,
      width: 16,
      channels: 4,
    });
    const blank = await predictImageFile(model, `${dir}/transparent.png`);
    assert.equal(blank.blank, true);
    assert.equal(seen.length, 1);
    assert.match(
      seen[0],
      /transparent\.png is blank after compositing on background 255/,
    );
    const ink = new Uint8Array(16 * 16).map((_, i) => (i % 16 < 8 ? 0 : 255));
    await writeImageFile(`${dir}/drawn.png`, {
      data: ink,
      height: 16,
      width: 16,
      channels: 1,
    });
    const drawn = await predictImageFile(model, `${dir}/drawn.png`);
    assert.equal(drawn.blank, false);
    assert.equal(seen.length, 1, seen.join("\n"));
  } finally {
    console.warn = original;
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
