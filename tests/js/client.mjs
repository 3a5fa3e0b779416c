// The official Ollama JavaScript client (ollama-js, pinned in package.json) against `castling serve`.
// Run by tests/scenarios/test_serve_js.py: `node client.mjs URL`. Each step's outcome (or the error the client
// threw) goes into one JSON object, printed as the last line (the client logs to stdout itself on some errors),
// so the Python test can say which step went wrong.
import { Ollama } from "ollama";

const client = new Ollama({ host: process.argv[2] });
const hello = [{ role: "user", content: "hello" }];
const tools = [
  {
    type: "function",
    function: {
      name: "GetPersonAge",
      description: "Gets the age of the specified person.",
      parameters: {
        type: "object",
        properties: { personName: { description: "The person whose age is being requested", type: "string" } },
        required: ["personName"],
      },
    },
  },
];
const question = { role: "user", content: "How old is Alice?" };

async function outcome(step) {
  try {
    return { returned: await step() };
  } catch (error) {
    return { thrown: { name: error.name, error: error.error ?? error.message, status_code: error.status_code } };
  }
}

async function streamed() {
  const parts = [];
  for await (const chunk of await client.chat({
    model: "llama3.1",
    messages: hello,
    options: { num_predict: 20, temperature: 0.5 },
    stream: true,
  })) {
    parts.push({ content: chunk.message.content, done: chunk.done });
  }
  return parts;
}

const steps = {
  version: () => client.version(),
  list: () => client.list(),
  ps: () => client.ps(),
  show: () => client.show({ model: "llama3.1" }),
  unknown_model: () => client.chat({ model: "mistral", messages: hello }),
  diverged: () => client.chat({ model: "llama3.1", messages: [{ role: "user", content: "helo" }] }),
  chat: () => client.chat({ model: "llama3.1", messages: hello, options: { num_predict: 10, temperature: 0.5 } }),
  stream: streamed,
  tool_call: () => client.chat({ model: "llama3.1", messages: [question], tools }),
  tool_result: () =>
    client.chat({
      model: "llama3.1",
      messages: [
        question,
        { role: "assistant", content: '{"call_id":"abcd1234","name":"GetPersonAge","arguments":{"personName":"Alice"}}' },
        { role: "tool", content: '{"call_id":"abcd1234","result":42}' },
      ],
      tools,
    }),
  out_of_turns: () => client.chat({ model: "llama3.1", messages: hello }),
};

const report = {};
for (const [name, step] of Object.entries(steps)) {
  report[name] = await outcome(step);
}
console.log(JSON.stringify(report));
