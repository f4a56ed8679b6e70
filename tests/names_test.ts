/**
 * A name means one thing: the tutorial a model or experiment comes from is
 * `tutorial` ("000".."004"), never `seed`, which is only ever the random
 * seed (`TrainSettings.seed`, `--seed`).
 */
import assert from "node:assert/strict";
import { MODEL_NAMES, MODELS } from "../lib/models/mod.ts";
import { EXPERIMENTS, MODEL_RECIPES } from "../lib/experiments/mod.ts";

Deno.test("models, recipes and experiments name their tutorial `tutorial`", () => {
  for (const name of MODEL_NAMES) {
    assert.match(MODELS[name].tutorial, /^(00[0-4]|paper)$/, name);
    assert.equal("seed" in MODELS[name], false, `MODELS.${name}.seed`);
    const recipe = MODEL_RECIPES[name];
    assert.equal(recipe.tutorial, MODELS[name].tutorial, name);
    assert.equal("seed" in recipe, false, `MODEL_RECIPES.${name}.seed`);
    assert.equal(typeof recipe.full.seed, "number", "the random seed");
  }
  for (const e of EXPERIMENTS) {
    assert.equal(e.id.slice(0, 3), e.tutorial);
    assert.equal("seed" in e, false, `${e.id}.seed`);
  }
});

Deno.test("train --list heads the tutorial column `tutorial`, next to --seed", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/train.ts", "--list"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
  }).output();
  const header = new TextDecoder().decode(out.stdout).split("\n")[0];
  assert.match(header, /^model +params +tutorial +dataset/);
  assert.doesNotMatch(header, /\bseed\b/);
});
