// Calls a running daemon's control API with connect-node, once per protocol, and prints one JSON line per protocol
// with what came back. Driven by tests/Cleanroom.Daemon.Tests/NodeConformanceTests.cs, which generates ./gen (buf +
// protoc-gen-es) beside a copy of this file.
// Usage: node client.mjs --socket PATH <sandbox id> <an unknown sandbox id>
//        node client.mjs --url https://HOST:PORT --ca FILE [--cert FILE --key FILE] <sandbox id> <an unknown sandbox id>
import diagnostics from "node:diagnostics_channel";
import fs from "node:fs";
import net from "node:net";
import { parseArgs } from "node:util";
import { createClient, ConnectError } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
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
  // Unary calls to methods marked NO_SIDE_EFFECTS go as GET (connect-es then sends no Accept-Encoding); every
  // non-empty request message is gzipped, and gzip is the one compression accepted for responses.
  "connect-get-gzip-http1": createConnectTransport({
    baseUrl, ...http1, useBinaryFormat: true, useHttpGet: true, sendCompression: compressionGzip, acceptCompression: [compressionGzip], compressMinBytes: 0,
  }),
  "grpc-http2": createGrpcTransport({ baseUrl, ...http2 }),
  "grpc-web-http1": createGrpcWebTransport({ baseUrl, ...http1, useBinaryFormat: true }),
};

// What went over the wire for the GET + gzip transport (HTTP/1.1, so node:http's diagnostics channels see it).
const wire = [];
let watching = false;
diagnostics.subscribe("http.client.response.finish", ({ request, response }) => {
  if (watching) {
    wire.push({
      method: request.method,
      query: [...new URL(request.path, "http://x").searchParams.keys()],
      sent: request.getHeader("content-encoding") ?? request.getHeader("connect-content-encoding") ?? null,
      status: response.statusCode,
      received: response.headers["content-encoding"] ?? response.headers["connect-content-encoding"] ?? null,
    });
  }
});

for (const [name, transport] of Object.entries(transports)) {
  watching = name === "connect-get-gzip-http1";
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
  if (watching) {
    result.wire = wire;
  }
  console.log(JSON.stringify(result));
}
