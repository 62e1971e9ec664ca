// The official openai npm client against `llmnpu server`: one whole and one streamed chat completion,
// greedy, printed as JSON for tests/server/server_test.cc to compare.
const OpenAI = require("openai");

async function main() {
  const client = new OpenAI({ baseURL: process.argv[2], apiKey: "unused", maxRetries: 0, timeout: 120000 });
  const models = await client.models.list();
  const model = models.data[0].id;
  const request = { model, messages: [{ role: "user", content: "Say hello" }], max_tokens: 16, temperature: 0 };
  const whole = await client.chat.completions.create(request);
  let streamed = "";
  const stream = await client.chat.completions.create({ ...request, stream: true });
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
  console.log(JSON.stringify({
    model,
    whole: whole.choices[0].message.content,
    finish_reason: whole.choices[0].finish_reason,
    streamed,
  }));
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
