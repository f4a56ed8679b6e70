/**
 * A stand-in Jupyter kernel for tests of what a real kernel rarely does:
 * it answers like the Deno kernel, but for every execute request it first
 * publishes a stream message with a wrong signature and a set of frames
 * without the `<IDS|MSG>` delimiter (what a huge output produced), then a
 * good stream message, the reply and the idle status.
 *
 * Run by `KernelClient.start({ kernelspec })` with a kernel.json whose argv
 * is `deno run -A --config <repo>/deno.json <this file> {connection_file}`.
 *
 * @module
 */
import * as zmq from "zeromq";
import {
  type ConnectionInfo,
  makeMessage,
  type Message,
  MessageSigner,
} from "../scripts/jupyter/mod.ts";

const info = JSON.parse(
  await Deno.readTextFile(Deno.args[0]),
) as ConnectionInfo;
const address = (port: number) => `tcp://${info.ip}:${port}`;
const signer = new MessageSigner(info.key);
const encoder = new TextEncoder();

const shell = new zmq.Router();
const control = new zmq.Router();
const iopub = new zmq.Publisher();
await shell.bind(address(info.shell_port));
await control.bind(address(info.control_port));
await iopub.bind(address(info.iopub_port));

function child(
  parent: Message,
  type: string,
  content: Record<string, unknown>,
): Message {
  const message = makeMessage(type, content, { session: "fake-kernel" });
  message.parent_header = parent.header;
  return message;
}

async function publish(message: Message): Promise<void> {
  await iopub.send(await signer.encode(message));
}

async function serve(socket: zmq.Router): Promise<void> {
  for await (const frames of socket) {
    const [identity] = frames;
    const request = await signer.decode(frames);
    const reply = async (type: string, content: Record<string, unknown>) =>
      await socket.send([
        identity,
        ...await signer.encode(child(request, type, content)),
      ]);
    const type = request.header.msg_type;
    await publish(child(request, "status", { execution_state: "busy" }));
    if (type === "kernel_info_request") {
      await reply("kernel_info_reply", {
        status: "ok",
        protocol_version: "5.3",
        implementation: "fake",
        language_info: { name: "typescript" },
      });
    } else if (type === "execute_request") {
      const bad = await signer.encode(
        child(request, "stream", { name: "stdout", text: "lost\n" }),
      );
      bad[1] = encoder.encode("0".repeat(64)); // a signature that does not match
      await iopub.send(bad);
      await iopub.send([encoder.encode("no delimiter"), encoder.encode("{}")]);
      await publish(
        child(request, "stream", { name: "stdout", text: "kept\n" }),
      );
      await reply("execute_reply", { status: "ok", execution_count: 1 });
    } else if (type === "shutdown_request") {
      await reply("shutdown_reply", { status: "ok", restart: false });
      await publish(child(request, "status", { execution_state: "idle" }));
      Deno.exit(0);
    }
    await publish(child(request, "status", { execution_state: "idle" }));
  }
}

await Promise.all([serve(shell), serve(control)]);
