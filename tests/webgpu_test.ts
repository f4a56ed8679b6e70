/**
 * The GPU user's paths, end to end, with `CNN_BACKEND=webgpu` in separate
 * processes: the library (a short `trainLoop` with checkpoint and resume,
 * `fitModel`, evaluation, prediction from an image file, figures), the train
 * CLI and one whole notebook (002: its cells read tensors, save and reload a
 * model and predict image files). Without a GPU this runs on the software
 * adapter (lavapipe, Debian `mesa-vulkan-drivers`), which is slow, so every
 * run is kept tiny.
 *
 * Where Deno finds no WebGPU adapter the tests are skipped with a reason in
 * their name, except under `CI=true`, where a missing adapter is a failure:
 * CI installs lavapipe so that these checks always run there.
 */
import assert from "node:assert/strict";
import { mirrorHas } from "./data_fixtures.ts";

const adapter = await (navigator as { gpu?: GPU }).gpu?.requestAdapter()
  .catch(() => null);
const HAS_ADAPTER = adapter !== null && adapter !== undefined;
const ON_CI = Deno.env.get("CI") === "true";
const NO_ADAPTER =
  " (SKIP: no WebGPU adapter; install Debian mesa-vulkan-drivers libvulkan1)";
const skipped = (name: string) =>
  HAS_ADAPTER || ON_CI ? name : name + NO_ADAPTER;
const ignore = !HAS_ADAPTER && !ON_CI;

interface Run {
  code: number;
  output: string;
}

/** Runs `deno <args>` with CNN_BACKEND=webgpu, stdout and stderr together. */
async function runWebgpu(args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: {
      CNN_BACKEND: "webgpu",
      NO_COLOR: "1",
      CNN_DATA_OFFLINE: "1",
      // wgpu warns on every start without it.
      XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
}

function requireAdapter(): void {
  assert.ok(
    HAS_ADAPTER,
    "CI=true but Deno finds no WebGPU adapter: install Debian " +
      "mesa-vulkan-drivers and libvulkan1 (the software adapter, lavapipe)",
  );
}

Deno.test({
  name: skipped(
    "webgpu: trainLoop with resume, fitModel, evaluation, image-file prediction and figures",
  ),
  ignore,
  fn: async () => {
    requireAdapter();
    const r = await runWebgpu(["run", "-A", "tests/webgpu_paths.ts"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /backend: webgpu/);
    assert.match(r.output, /webgpu paths: ok/);
  },
});

const HAS_MNIST = mirrorHas("mnist");

Deno.test({
  name: skipped(
    "webgpu: deno task train trains, evaluates and reports" +
      (HAS_MNIST ? "" : " (SKIP: no MNIST in CNN_DATA_MIRROR)"),
  ),
  ignore: ignore || !HAS_MNIST,
  fn: async () => {
    requireAdapter();
    const r = await runWebgpu([
      "run",
      "-A",
      "scripts/train.ts",
      "--model",
      "lenet5",
      "--dataset",
      "mnist",
      "--limit",
      "96",
      "--test-limit",
      "96",
      "--epochs",
      "1",
      "--backend",
      "webgpu",
      "--json",
    ]);
    assert.equal(r.code, 0, r.output);
    const json = JSON.parse(
      r.output.trim().split("\n").findLast((l) => l.startsWith("{"))!,
    );
    assert.equal(json.backend, "webgpu");
    assert.equal(json.test_samples.test, 96);
    assert.ok(json.test_accuracy >= 0 && json.test_accuracy <= 1);
  },
});

Deno.test({
  name: skipped(
    "webgpu: notebook 002 runs whole at smoke scale" +
      (HAS_MNIST ? "" : " (SKIP: no MNIST in CNN_DATA_MIRROR)"),
  ),
  ignore: ignore || !HAS_MNIST,
  fn: async () => {
    requireAdapter();
    const out = await Deno.makeTempDir({ prefix: "webgpu-notebook-" });
    try {
      const r = await runWebgpu([
        "run",
        "-A",
        "scripts/notebooks.ts",
        "--scale",
        "smoke",
        "--no-sign",
        "--out",
        out,
        "notebooks/002_lenet_pytorch_style.ipynb",
      ]);
      assert.equal(r.code, 0, r.output.slice(-6000));
      const executed = await Deno.readTextFile(
        `${out}/002_lenet_pytorch_style.ipynb`,
      );
      assert.match(executed, /backend webgpu/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
