// The TypeScript SDK's MCP client against a running issuebridge (tests/e2e/test_node_clients.py).
//
//   node client.mjs BASE_URL sse|streamable-http OWNER REPO
//
// Connects over the chosen transport, lists the tools, calls send_issues_to_dashboard and prints
// one JSON summary on stdout. Exits non-zero (with the reason on stderr) on any failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [base, transportName, owner, repo] = process.argv.slice(2);
if (!base || !owner || !repo || !["sse", "streamable-http"].includes(transportName)) {
  console.error("usage: node client.mjs BASE_URL sse|streamable-http OWNER REPO");
  process.exit(2);
}

const transport =
  transportName === "sse"
    ? new SSEClientTransport(new URL("/sse", base))
    : new StreamableHTTPClientTransport(new URL("/mcp", base));
const client = new Client({ name: "issuebridge-ts-test", version: "1.0.0" });
await client.connect(transport);

// Every progress notification as it arrives, before the SDK dispatches it: the SDK hands a
// notification to its handler a microtask later but a response at once, so a last progress
// notification that arrives in the same read as the response never reaches `onprogress`.
const progressOnTheWire = [];
const dispatch = transport.onmessage;
transport.onmessage = (message, extra) => {
  if (message.method === "notifications/progress") progressOnTheWire.push(message.params);
  dispatch?.(message, extra);
};

const { tools } = await client.listTools();
const names = tools.map((tool) => tool.name);
if (!names.includes("send_issues_to_dashboard")) {
  throw new Error(`send_issues_to_dashboard is not listed: ${names.join(", ")}`);
}

const progress = [];
const result = await client.callTool(
  { name: "send_issues_to_dashboard", arguments: { owner, repo, state: "open" } },
  undefined,
  { onprogress: (update) => progress.push(update) },
);
await client.close();

console.log(
  JSON.stringify({
    server: client.getServerVersion(),
    protocolVersion: transport.protocolVersion ?? null,
    instructions: client.getInstructions() ?? null,
    tools: names,
    isError: result.isError ?? false,
    text: result.content.filter((part) => part.type === "text").map((part) => part.text),
    structuredContent: result.structuredContent ?? null,
    progress,
    progressOnTheWire,
  }),
);
