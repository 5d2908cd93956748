// Calls a running daemon's control API over its unix socket with connect-node, once per protocol, and prints one JSON
// line per protocol with what came back. Driven by tests/Cleanroom.Daemon.Tests/NodeConformanceTests.cs.
// Usage: node client.mjs <socket> <sandbox id> <an unknown sandbox id>
import net from "node:net";
import { createClient, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SandboxService, SandboxStatus } from "./gen/cleanroom/v1/sandbox_pb.js";
import { ErrorReasonSchema } from "./gen/cleanroom/v1/errors_pb.js";

const [socket, sandboxId, unknownId] = process.argv.slice(2);
const baseUrl = "http://cleanroom";
const http1 = { httpVersion: "1.1", nodeOptions: { socketPath: socket } };
const http2 = { httpVersion: "2", nodeOptions: { createConnection: () => net.connect(socket) } };

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
    result.failed = String(e);
  }
  console.log(JSON.stringify(result));
}
