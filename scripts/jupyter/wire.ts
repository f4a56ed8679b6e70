/**
 * The Jupyter messaging protocol's wire format (version 5.3): messages are
 * multipart ZeroMQ frames `[ids…, "<IDS|MSG>", hmac, header, parent_header,
 * metadata, content, buffers…]`, signed with HMAC-SHA256 over the four JSON
 * parts using the connection file's key.
 *
 * @module
 */

/** The delimiter frame between routing identities and the message. */
const DELIMITER = "<IDS|MSG>";

/**
 * Protocol version the runner speaks.
 *
 * @example
 * ```ts
 * makeMessage("kernel_info_request", {}, { session: "s" }).header.version; // PROTOCOL_VERSION
 * ```
 */
export const PROTOCOL_VERSION = "5.3";

/** A message header. */
export interface MessageHeader {
  /** Unique id of this message. */
  msg_id: string;
  /** Session id of the sender. */
  session: string;
  /** User name of the sender. */
  username: string;
  /** ISO 8601 time the message was created. */
  date: string;
  /** Message type, e.g. `execute_request`, `stream`. */
  msg_type: string;
  /** Protocol version. */
  version: string;
}

/** A decoded Jupyter message. */
export interface Message {
  /** This message's header. */
  header: MessageHeader;
  /** The header of the request this message answers (or `{}`). */
  parent_header: Partial<MessageHeader>;
  /** Message metadata. */
  metadata: Record<string, unknown>;
  /** Message content, shaped by `header.msg_type`. */
  content: Record<string, unknown>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Signs and verifies messages with one connection key.
 *
 * @example
 * ```ts
 * const signer = new MessageSigner(info.key);
 * await socket.send(await signer.encode(makeMessage("kernel_info_request", {}, { session })));
 * const reply = await signer.decode(await socket.receive());
 * ```
 */
export class MessageSigner {
  #key: Promise<CryptoKey> | null;

  /** Creates a signer for `key` (an empty key disables signing). */
  constructor(key: string) {
    this.#key = key
      ? crypto.subtle.importKey(
        "raw",
        encoder.encode(key),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      )
      : null;
  }

  /** Hex HMAC-SHA256 of the concatenated parts ("" when unsigned). */
  async sign(parts: Uint8Array[]): Promise<string> {
    if (!this.#key) return "";
    const total = parts.reduce((n, p) => n + p.length, 0);
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    const mac = await crypto.subtle.sign("HMAC", await this.#key, joined);
    return Array.from(
      new Uint8Array(mac),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join("");
  }

  /** Serialises a message into frames, without routing identities. */
  async encode(message: Message): Promise<Uint8Array[]> {
    const parts = [
      message.header,
      message.parent_header,
      message.metadata,
      message.content,
    ].map((part) => encoder.encode(JSON.stringify(part)));
    const signature = await this.sign(parts);
    return [encoder.encode(DELIMITER), encoder.encode(signature), ...parts];
  }

  /**
   * Parses received frames (routing identities and topics are skipped).
   * Throws when the signature does not match, so forged or corrupted
   * messages are never applied to a notebook.
   */
  async decode(frames: Uint8Array[]): Promise<Message> {
    const index = frames.findIndex((f) => decoder.decode(f) === DELIMITER);
    if (index < 0 || frames.length < index + 6) {
      throw new Error("malformed Jupyter message: no <IDS|MSG> delimiter");
    }
    const signature = decoder.decode(frames[index + 1]);
    const parts = frames.slice(index + 2, index + 6);
    if (this.#key) {
      const expected = await this.sign(parts);
      if (expected !== signature) {
        throw new Error("Jupyter message with a bad signature was dropped");
      }
    }
    const [header, parent_header, metadata, content] = parts.map((p) =>
      JSON.parse(decoder.decode(p))
    );
    return { header, parent_header, metadata, content };
  }
}

/**
 * Creates a new message with a fresh id.
 *
 * @example
 * ```ts
 * const msg = makeMessage("kernel_info_request", {}, { session: crypto.randomUUID() });
 * ```
 */
export function makeMessage(
  msgType: string,
  content: Record<string, unknown>,
  options: { session: string; username?: string },
): Message {
  return {
    header: {
      msg_id: crypto.randomUUID(),
      session: options.session,
      username: options.username ?? "runner",
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    },
    parent_header: {},
    metadata: {},
    content,
  };
}
