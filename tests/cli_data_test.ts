/**
 * `deno task data` judged by what the notebooks can run: missing files that
 * have a labelled substitute are named, with the substitute, and exit 0;
 * a dataset the notebooks cannot use exits 1; a name given twice counts
 * once; `--list --verify` re-hashes. Runs needing the real datasets skip
 * when the mirror is absent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { mirrorHas } from "./data_fixtures.ts";
import { runScript } from "./_cli_run.ts";

const data = (args: string[]) => runScript("data.ts", args);
const HAS = mirrorHas("kannada-mnist") && mirrorHas("mnist");

Deno.test({
  name:
    "data kannada-mnist cifar10 --mirror: names the missing files, says the notebooks use the substitutes, exits 0",
  ignore: !HAS,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const mirror = Deno.env.get("CNN_DATA_MIRROR")!;
      const r = await data([
        "kannada-mnist",
        "cifar10",
        "--mirror",
        mirror,
        "--dir",
        dir,
        "--offline",
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /kannada-mnist +SUBSTITUTE: X_kannada_MNIST_train\.npz missing; the notebooks train on a seeded 70% share of the official test split/,
      );
      assert.match(
        r.stdout,
        /cifar10 +SUBSTITUTE: cifar-10-binary\.tar\.gz missing; the notebooks use .*cifar10-subset \(4000 train \+ 1000 test images/,
      );
      assert.match(
        r.stdout,
        /\d+ verified, 2 missing \(the notebooks use the labelled substitutes above\)/,
      );
      assert.match(r.stdout, /Every notebook can run/);
      // Twice the same name: its files count once.
      const twice = await data([
        "mnist",
        "mnist",
        "--mirror",
        mirror,
        "--dir",
        dir,
      ]);
      assert.equal(twice.code, 0, twice.stdout + twice.stderr);
      assert.match(twice.stdout, /^4 verified, 0 missing/m);
      // --list --verify re-hashes instead of only listing.
      const verify = await data(["--list", "--verify", "--dir", dir]);
      assert.match(verify.stdout, /re-hashing every cached file/);
      assert.match(verify.stdout, /\d+ verified, 0 corrupt or unreadable/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("data: a dataset the notebooks cannot use (no files, no substitute) exits 1 and says so", async () => {
  const root = await Deno.makeTempDir();
  try {
    const r = await data([
      "mnist",
      "--mirror",
      join(root, "empty-mirror"),
      "--dir",
      join(root, "cache"),
      "--offline",
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /mnist +CANNOT RUN: train-images-idx3-ubyte\.gz, .* missing and no substitute here/,
    );
    assert.match(r.stdout, /Exit status 1: the notebooks cannot run on mnist/);
    const allowed = await data([
      "mnist",
      "--mirror",
      join(root, "empty-mirror"),
      "--dir",
      join(root, "cache"),
      "--offline",
      "--allow-missing",
    ]);
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
