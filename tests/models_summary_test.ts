/**
 * Compact model summaries: blocks a reader can take in (MobileNet's 88
 * layers in 13 block rows, its five identical separable blocks in one row),
 * counts rounded for people, exact totals; the per-layer table on request.
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import {
  buildCifarCnn,
  buildMobileNet,
  buildModel,
  countParams,
  formatCount,
  formatSummary,
  MODEL_NAMES,
  summarizeBlocks,
  summarizeModel,
} from "../lib/models/mod.ts";

await initBackend({ backend: "cpu" });

Deno.test("formatCount: parameter counts rounded for people", () => {
  assert.deepEqual(
    [0, 842, 2720, 18_560, 271_360, 999_999, 1_049_600, 4_288_138].map(
      formatCount,
    ),
    ["0", "842", "2.72k", "18.6k", "271k", "1M", "1.05M", "4.29M"],
  );
});

Deno.test("summarizeBlocks: every layer once, in order; block params add up to the total", () => {
  for (const name of MODEL_NAMES) {
    const model = buildModel(name);
    const rows = summarizeBlocks(model);
    assert.deepEqual(
      rows.flatMap((r) => r.layers),
      summarizeModel(model).map((r) => r.name),
      `${name}: layers covered once, in order`,
    );
    assert.equal(
      rows.reduce((s, r) => s + r.params * r.repeats, 0),
      countParams(model).total,
      `${name}: block params add up`,
    );
    model.dispose();
  }
});

Deno.test("formatSummary: MobileNet in one screen, repeated separable blocks collapsed", () => {
  const model = buildMobileNet({ inputShape: [32, 32, 3], numClasses: 10 });
  const text = formatSummary(model);
  const lines = text.split("\n");
  assert.ok(lines.length <= 40, `${lines.length} lines:\n${text}`);
  assert.match(lines[0], /^Model "\S+": 88 layers, input 32x32x3$/);
  const repeated = lines.filter((l) => /^5 x Separable 3x3: DW \+ BN/.test(l));
  assert.equal(repeated.length, 1, text);
  assert.match(
    repeated[0],
    /conv_dw_7 … conv_pw_11_relu\s+2x2x512\s+5 x 271k$/,
  );
  assert.match(
    text,
    /^Separable 3x3\/2: Pad \+ DW \+ BN \+ ReLU, PW \+ BN \+ ReLU /m,
  );
  const total = countParams(model);
  assert.match(
    lines.at(-1)!,
    new RegExp(
      `^Total params: ${total.total.toLocaleString("en-US")} \\(${
        formatCount(total.total).replace(".", "\\.")
      }\\); trainable .*, non-trainable 21\\.9k$`,
    ),
  );
  // Every row's count is rounded: at most three significant digits.
  for (const row of lines.slice(3, -1)) {
    assert.match(
      row,
      /\s(\d{1,3}|\d(\.\d+)?[kMG]|\d\d(\.\d)?[kMG]|\d{3}[kMG])$/,
      row,
    );
  }
  model.dispose();
});

Deno.test("formatSummary: the old call still works; per-layer rows on request", () => {
  const model = buildCifarCnn();
  assert.match(formatSummary(model), /Total params: 1,084,234 \(1\.08M\)/);
  const layers = formatSummary(model, { group: "layers" }).split("\n");
  assert.equal(layers.length, 19 + 4);
  assert.match(layers[3], /^conv2d_1 \(Conv2D\)\s+32x32x16\s+448$/);
  assert.throws(
    () => formatSummary(model, { group: "rows" as never }),
    /group must be "blocks" or "layers", got 'rows'/,
  );
  model.dispose();
});
