// llmnpu run: prefill a prompt, then generate, streaming text as it comes.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "backend/int8_linear.h"
#include "backend/reference_interpreter.h"
#include "command.h"
#include "core/error.h"
#include "core/timer.h"
#include "flags.h"
#include "model_options.h"
#include "prefill_options.h"
#include "runtime/sampler.h"
#include "runtime/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu::cli {
namespace {

// The int8 linears' shadow counters summed over the graph (zeros for a float model), and how many
// linears keep a shadow path.
struct ShadowTotals {
  uint64_t entries = 0, hot = 0, cold = 0, fallback_rows = 0;
  int shadowed_linears = 0;
};
ShadowTotals shadow_totals(const ModelGraph& graph) {
  ShadowTotals t;
  for (const LayerLinears& L : graph.layers)
    for (const LinearOp* op : {L.qkv.get(), L.o.get(), L.gate_up.get(), L.down.get()})
      if (const auto* q = dynamic_cast<const Int8Linear*>(op)) {
        const Int8Linear::Counters c = q->counters();
        t.entries += c.outliers;
        t.hot += c.hot_rows;
        t.cold += c.cold_rows;
        t.fallback_rows += c.fallback_rows;
        t.shadowed_linears += q->shadow() ? 1 : 0;
      }
  return t;
}

int run_command(int argc, char** argv) {
  CLI::App app{"Generate text: prefill the prompt, then decode token by token on the host."};
  app.name(argv[0]);
  ModelOptions mo;
  mo.add_to(app);
  std::string prompt, prompt_file;
  int n_predict = 128;
  PrefillOptions po;
  SamplerParams sp;
  bool seed_given = false, json = false, no_bos = false, reference = false;
  app.add_option("-p,--prompt", prompt, "prompt text");
  app.add_option("-f,--file", prompt_file, "read the prompt from a file ('-' reads standard input)");
  app.add_option("-n,--n-predict", n_predict,
                 "tokens to generate (default 128; -1 = until end of text or context)")
      ->check(integer_in(
          -1, kMaxTokensFlag,
          str("an integer from 0 to ", kMaxTokensFlag, ", or -1 for until end of text or context")));
  app.add_option("--temp", sp.temperature, "temperature; 0 = greedy (default 0.8)")
      ->check(number_in(0.0, 100.0));
  app.add_option("--top-k", sp.top_k, "top-k cut, 0 = off (default 40)")
      ->check(integer_in(0, int64_t(1) << 24));
  app.add_option("--top-p", sp.top_p, "nucleus cut, 1 = off (default 0.95)")
      ->check(number_in(0.0, 1.0, true));
  auto* seed_opt = app.add_option("--seed", sp.seed, "sampling seed (default: random, printed)");
  po.add_to(app);
  std::vector<std::string> stop_strings;
  app.add_option("--stop", stop_strings,
                 "end generation where the text shows this string (repeat for several; the string is not "
                 "printed)");
  app.add_flag("--no-bos", no_bos, "do not add the BOS token even if the model asks for it");
  app.add_flag("--reference", reference,
               "run the float reference interpreter (plain loops, one token at a time, slow) instead of the "
               "engine: the oracle to check a result against (float models only)");
  app.add_flag("--json", json, "print one JSON object (ids, text, timings) instead of streaming text");
  LLMNPU_PARSE_FLAGS(app, argc, argv);
  StopStrings stops(stop_strings);
  seed_given = seed_opt->count() > 0;
  if (!seed_given) sp.seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  check(prompt_file.empty() || prompt.empty(), "give the prompt with -p or -f, not both");
  if (!prompt_file.empty()) prompt = read_text_file(prompt_file);

  LoadedModel lm = load_for_inference(mo);
  const Model& model = *lm.model;
  check(model.tokenizer != nullptr, "model '", mo.model_path,
        "' has no tokenizer: pass one with --tokenizer");
  const Tokenizer& tok = *model.tokenizer;
  Engine& engine = *lm.engine;

  std::vector<int32_t> ids = tok.encode(prompt, tok.adds_bos() && !no_bos);
  check(!ids.empty(), "the prompt is empty (give text with -p, or a model that adds BOS)");
  check(int(ids.size()) < engine.context(), "prompt of ", ids.size(),
        " tokens does not fit in the context of ", engine.context(), " tokens (use -c to enlarge it)");
  const int room = engine.context() - int(ids.size());
  const int budget = n_predict < 0 ? room : std::min(n_predict, room);

  Sampler sampler(sp);
  StreamingDecoder stream(tok);
  std::string text;
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return;
    text += piece;
    if (!json) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
  };

  std::unique_ptr<ReferenceInterpreter> interpreter;
  if (reference) {
    check(model.format != "prepared", "--reference runs a float model; give the model '", mo.model_path,
          "' was prepared from");
    interpreter = std::make_unique<ReferenceInterpreter>(model, engine.context());
  }
  // The next token's logits: the engine's decode step, or the reference interpreter's.
  auto step = [&](int32_t id) { return interpreter ? interpreter->forward(id) : engine.decode(id); };
  Prefiller prefiller(engine, po, engine.pool().size());
  const std::string prefill_description =
      interpreter ? "reference interpreter (plain loops on one CPU core, token by token)"
                  : prefiller.describe();
  // Every input is valid from here on: the status lines, then the text.
  std::fprintf(stderr, "model: %s (%s, %d layers, dim %d) | %s | %d threads | seed %llu\n",
               mo.model_path.c_str(), model.config.arch.c_str(), model.config.n_layers, model.config.dim,
               lm.graph->describe.c_str(), engine.pool().size(), static_cast<unsigned long long>(sp.seed));
  if (model.config.name.rfind("synth-", 0) == 0)
    std::fprintf(stderr, "note: %s has random weights (llmnpu synth): its text is expected to be noise\n",
                 model.config.name.c_str());
  std::fprintf(stderr, "prefill: %s\n", prefill_description.c_str());
  if (!json) std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  Trace trace;
  const ShadowTotals shadow_before = shadow_totals(*lm.graph);
  double t0 = now_seconds();
  std::vector<float> logits;
  if (interpreter)
    for (int32_t id : ids) logits = interpreter->forward(id);
  else
    logits = prefiller.run(ids, &trace);
  double t1 = now_seconds();
  const ShadowTotals shadow_after = shadow_totals(*lm.graph);
  if (!po.trace_path.empty()) trace.write_chrome_json(po.trace_path);
  std::vector<int32_t> generated;
  int vocab = model.config.vocab_size;
  std::string stopped_by = "length";
  for (int i = 0; i < budget; ++i) {
    int32_t next = sampler.sample(logits.data(), vocab);
    generated.push_back(next);
    if (tok.is_end_of_generation(next)) {
      stopped_by = "end of text";
      break;
    }
    emit(stops.push(stream.push(next)));
    if (stops.stopped()) {
      stopped_by = "stop string";
      break;
    }
    if (i + 1 < budget) logits = step(next);
  }
  if (!stops.stopped()) emit(stops.push(stream.flush()));
  if (!stops.stopped()) emit(stops.flush());
  double t2 = now_seconds();

  double prefill_s = t1 - t0, decode_s = t2 - t1;
  // The first generated token comes from the prefill logits; the rest each cost one decode step.
  int decode_steps = std::max(0, int(generated.size()) - 1);
  double prompt_tps = prefill_s > 0 ? double(ids.size()) / prefill_s : 0;
  double gen_tps = decode_s > 0 && decode_steps > 0 ? double(decode_steps) / decode_s : 0;
  if (json) {
    nlohmann::json out;
    out["prompt_ids"] = ids;
    out["generated_ids"] = generated;
    out["text"] = text;
    out["seed"] = sp.seed;
    out["stopped_by"] = stopped_by;
    out["timings"] = {{"prompt_tokens", ids.size()},
                      {"prompt_seconds", prefill_s},
                      {"prompt_tokens_per_second", prompt_tps},
                      {"generated_tokens", generated.size()},
                      {"generation_seconds", decode_s},
                      {"generation_tokens_per_second", gen_tps}};
    out["processors"] = interpreter ? "fp32 reference interpreter (one CPU core)" : lm.graph->describe;
    out["prefill"] = prefill_description;
    nlohmann::json lanes = nlohmann::json::array();
    for (const auto& lane : trace.summarize())
      lanes.push_back({{"processor", lane.name},
                       {"busy_share", lane.busy_share},
                       {"bubble_share", lane.bubble_share},
                       {"shadow_seconds", lane.shadow}});
    out["lanes"] = lanes;
    const ShadowQueue::Stats sh = prefiller.shadow_stats();
    out["shadow"] = {{"jobs", sh.jobs},
                     {"on_host", sh.on_host},
                     {"on_accelerator", sh.on_accelerator},
                     {"host_seconds", sh.host_seconds},
                     {"accelerator_seconds", sh.accelerator_seconds}};
    // Prefill's outlier entries (activation elements beyond the static scale, each one row of shadow work)
    // and the distinct channels per call served by resident (hot) or mapped (cold) weight rows.
    const uint64_t entries = shadow_after.entries - shadow_before.entries;
    out["shadow"]["outlier_entries"] = entries;
    out["shadow"]["entries_per_token_per_linear"] =
        shadow_after.shadowed_linears > 0
            ? double(entries) / double(ids.size()) / double(shadow_after.shadowed_linears)
            : 0.0;
    out["shadow"]["hot_channel_hits"] = shadow_after.hot - shadow_before.hot;
    out["shadow"]["cold_channel_hits"] = shadow_after.cold - shadow_before.cold;
    // Rows beyond the per-row shadow budget, recomputed with a dynamic activation scale (prefill).
    out["shadow"]["rows_over_budget"] = shadow_after.fallback_rows - shadow_before.fallback_rows;
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
    std::fprintf(
        stderr,
        "prompt: %zu tokens in %.3f s, %.1f tokens/s | generation: %zu tokens in %.3f s, %.1f tokens/s\n",
        ids.size(), prefill_s, prompt_tps, generated.size(), decode_s, gen_tps);
    std::fprintf(stderr, "%s", format_lane_summary(trace).c_str());
  }
  return 0;
}

Register reg("run", "generate text from a prompt (-m MODEL -p PROMPT -n N)", run_command);

}  // namespace
}  // namespace llmnpu::cli
