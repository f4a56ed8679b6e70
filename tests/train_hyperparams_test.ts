/**
 * Non-finite or non-positive hyper-parameters are refused before anything
 * trains, by the train CLI (exit code 2 and a usage message) and by the
 * library's settings, like `--lr NaN` always was.
 */
import assert from "node:assert/strict";
import { trainSettingsFor } from "../lib/experiments/mod.ts";
import { earlyStopping, exponentialDecay } from "../lib/train/mod.ts";

Deno.test("train CLI: --lr Infinity, -Infinity, 1e999 and 0 are refused", async () => {
  const refused = async (lr: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "scripts/train.ts",
        "--model",
        "lenet5",
        `--lr=${lr}`,
      ],
      env: { NO_COLOR: "1", CNN_DATA_OFFLINE: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, `--lr ${lr}: ${stderr}`);
    assert.match(stderr, /--lr must be a number > 0 \(and finite\)/);
  };
  await Promise.all(["Infinity", "-Infinity", "1e999", "0"].map(refused));
});

Deno.test("trainSettingsFor refuses non-finite and non-positive hyper-parameters", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ learningRate: Infinity }, /learningRate must be a finite number > 0/],
    [{ learningRate: NaN }, /learningRate must be a finite number > 0/],
    [{ learningRate: -1e-3 }, /learningRate must be a finite number > 0/],
    [{ lrDecay: Infinity }, /lrDecay must be a finite number > 0 or null/],
    [{ lrDecay: 0 }, /lrDecay must be a finite number > 0 or null/],
    [{ earlyStoppingPatience: Infinity }, /earlyStoppingPatience must be/],
    [{ epochs: Infinity }, /epochs must be an integer >= 1/],
    [{ batchSize: NaN }, /batchSize must be an integer >= 1/],
    [{ validationFraction: NaN }, /validationFraction must be in \[0, 1\)/],
    [{ seed: Infinity }, /seed must be an integer/],
  ];
  for (const [overrides, message] of cases) {
    assert.throws(
      () => trainSettingsFor("lenet5", "smoke", { overrides }),
      message,
      JSON.stringify(
        overrides,
        (_k, v) => typeof v === "number" ? String(v) : v,
      ),
    );
  }
  // Null decay and patience stay allowed: they mean "none".
  trainSettingsFor("lenet5", "smoke", {
    overrides: { lrDecay: null, earlyStoppingPatience: null },
  });
});

Deno.test("learning-rate schedules and early stopping refuse non-finite settings", () => {
  for (const [lr0, rate] of [[Infinity, 0.9], [1e-3, Infinity], [NaN, 0.9]]) {
    assert.throws(
      () => exponentialDecay(lr0, rate),
      /lr0 and rate must be finite numbers > 0/,
    );
  }
  assert.throws(
    () => earlyStopping({ minDelta: NaN }),
    /minDelta must be a finite number/,
  );
  assert.equal(exponentialDecay(1, 0.5)(2, 0), 0.25);
});
