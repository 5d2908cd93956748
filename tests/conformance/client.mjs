// Calls a running daemon's control API with connect-node, once per protocol, and prints one JSON line per protocol
// with what came back. Driven by tests/Cleanroom.Daemon.Tests/NodeConformanceTests.cs, which generates ./gen (buf +
// protoc-gen-es) beside a copy of this file.
// Usage: node client.mjs --socket PATH <sandbox id> <an unknown sandbox id>
//        node client.mjs --url https://HOST:PORT --ca FILE [--cert FILE --key FILE] <sandbox id> <an unknown sandbox id>
import fs from "node:fs";
import net from "node:net";
import { parseArgs } from "node:util";
import { createClient, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SandboxService, SandboxStatus } from "./gen/cleanroom/v1/sandbox_pb.js";
import { ErrorReasonSchema } from "./gen/cleanroom/v1/errors_pb.js";

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { socket: { type: "string" }, url: { type: "string" }, ca: { type: "string" }, cert: { type: "string" }, key: { type: "string" } },
});
const [sandboxId, unknownId] = positionals;

let baseUrl, http1, http2;
if (flags.socket) {
  baseUrl = "http://cleanroom";
  http1 = { httpVersion: "1.1", nodeOptions: { socketPath: flags.socket } };
  http2 = { httpVersion: "2", nodeOptions: { createConnection: () => net.connect(flags.socket) } };
} else {
  // TLS: trust only the given CA (as `cleanroom --tls-ca` does) and offer the client certificate when given.
  baseUrl = flags.url;
  const tls = { ca: fs.readFileSync(flags.ca) };
  if (flags.cert) {
    tls.cert = fs.readFileSync(flags.cert);
    tls.key = fs.readFileSync(flags.key);
  }
  http1 = { httpVersion: "1.1", nodeOptions: tls };
  http2 = { httpVersion: "2", nodeOptions: tls };
}

const transports = {
  "connect-json-http1": createConnectTransport({ baseUrl, ...http1, useBinaryFormat: false }),
  "connect-proto-http2": createConnectTransport({ baseUrl, ...http2, useBinaryFormat: true }),
  "grpc-http2": createGrpcTransport({ baseUrl, ...http2 }),
  "grpc-web-http1": createGrpcWebTransport({ baseUrl, ...http1, useBinaryFormat: true }),
};

for (const [name, transport] of Object.entries(transports)) {
  const client = createClient(SandboxService, transport);
  const result = { transport: name };
  try {
    const list = await client.listSandboxes({});
    result.unary = list.sandboxes.map((s) => s.sandboxId);
    const statuses = [];
    for await (const event of client.streamSandboxEvents({ sandboxId, follow: false })) {
      statuses.push(SandboxStatus[event.status]);
    }
    result.stream = statuses;
    try {
      await client.getSandbox({ sandboxId: unknownId });
      result.error = "none";
    } catch (e) {
      const err = ConnectError.from(e);
      result.error = { code: err.code, message: err.rawMessage, reasons: err.findDetails(ErrorReasonSchema).map((d) => d.reason) };
    }
  } catch (e) {
    const err = ConnectError.from(e);
    result.failed = { code: err.code, message: err.rawMessage, cause: String(err.cause ?? "") };
  }
  console.log(JSON.stringify(result));
}
