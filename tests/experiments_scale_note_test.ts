// scaleNote: the generated line under each notebook's first cell says what
// the running scale changes against the tutorial's settings.
import assert from "node:assert/strict";
import { scaleNote, trainSettingsFor } from "../lib/experiments/mod.ts";

Deno.test("scaleNote: epochs, images and early stopping against the tutorial, from the settings", () => {
  const quick = trainSettingsFor("lenet5", "quick");
  const full = trainSettingsFor("lenet5", "full");
  const note = scaleNote("lenet5", "quick");
  assert.match(note, /^quick scale: /);
  assert.ok(
    note.includes(`${quick.epochs} epoch`) &&
      note.includes(`the tutorial's up to ${full.epochs}`),
    note,
  );
  assert.match(note, /all training images, as the tutorial/);
  // One epoch with patience 5: early stopping can never fire, and it says so.
  assert.match(note, /early stopping \(patience 5\) cannot fire in 1 epoch/);

  const smoke = trainSettingsFor("cifar-cnn", "smoke");
  const smokeNote = scaleNote("cifar-cnn", "smoke");
  assert.match(
    smokeNote,
    new RegExp(
      `first ${smoke.trainLimit!.toLocaleString("en-US")} training images`,
    ),
  );
  assert.doesNotMatch(smokeNote, /early stopping/);
  assert.equal(
    scaleNote("fashion-lenet-large", "full"),
    `full scale: the tutorial's settings (${
      trainSettingsFor("fashion-lenet-large", "full").epochs
    } epochs, all training and test images)`,
  );
  assert.throws(
    () => scaleNote("no-such-model", "quick"),
    /No training recipe/,
  );
});
