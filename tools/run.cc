// llmnpu run: prefill a prompt, then generate, streaming text as it comes.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "core/error.h"
#include "core/timer.h"
#include "flags.h"
#include "model_options.h"
#include "prefill_options.h"
#include "runtime/session.h"
#include "runtime/stop_strings.h"
#include "sampling_options.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu::cli {
namespace {

int run_command(int argc, char** argv) {
  CLI::App app{"Generate text: prefill the prompt, then decode token by token on the host."};
  app.name(argv[0]);
  ModelOptions mo;
  mo.add_to(app);
  std::string prompt, prompt_file;
  int n_predict = 128;
  PrefillOptions po;
  SamplingOptions sp;
  bool json = false, no_bos = false, reference = false;
  app.add_option("-p,--prompt", prompt, "prompt text");
  app.add_option("-f,--file", prompt_file, "read the prompt from a file ('-' reads standard input)");
  app.add_option("-n,--n-predict", n_predict,
                 "tokens to generate (default 128; -1 = until end of text or context)")
      ->check(integer_in(
          -1, kMaxTokensFlag,
          str("an integer from 0 to ", kMaxTokensFlag, ", or -1 for until end of text or context")));
  sp.add_to(app);
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
  StopStrings{stop_strings};  // refuses empty stop strings before anything loads
  sp.choose_seed();
  check(prompt_file.empty() || prompt.empty(), "give the prompt with -p or -f, not both");
  if (!prompt_file.empty()) prompt = read_text_file(prompt_file);

  SessionOptions so;
  so.prefill = po;
  so.reference = reference;
  Session session(load_for_inference(mo), so);
  const Model& model = session.model();
  check(model.tokenizer != nullptr, "model '", mo.model_path,
        "' has no tokenizer: pass one with --tokenizer");
  const std::vector<int32_t> ids = session.tokenize(prompt, !no_bos);
  check(!ids.empty(), "the prompt is empty (give text with -p, or a model that adds BOS)");
  check(int(ids.size()) < session.context(), "prompt of ", ids.size(),
        " tokens does not fit in the context of ", session.context(), " tokens (use -c to enlarge it)");

  // Every input is valid from here on: the status lines, then the text.
  std::fprintf(stderr, "model: %s (%s, %d layers, dim %d) | %s | %d threads | seed %llu\n",
               mo.model_path.c_str(), model.config.arch.c_str(), model.config.n_layers, model.config.dim,
               session.graph().describe.c_str(), session.threads(), static_cast<unsigned long long>(sp.seed));
  if (model.config.name.rfind("synth-", 0) == 0)
    std::fprintf(stderr, "note: %s has random weights (llmnpu synth): its text is expected to be noise\n",
                 model.config.name.c_str());
  std::fprintf(stderr, "prefill: %s\n", session.prefill_description().c_str());
  if (!json) std::fwrite(prompt.data(), 1, prompt.size(), stdout);

  GenerateOptions go;
  go.max_tokens = n_predict;
  go.sampling = sp;
  go.stop = stop_strings;
  Trace trace;
  go.trace = &trace;
  const GenerationResult r = session.generate(ids, go, [&](const std::string& piece) {
    if (!json) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  if (!po.trace_path.empty()) trace.write_chrome_json(po.trace_path);
  if (json) {
    nlohmann::json out;
    out["prompt_ids"] = ids;
    out["generated_ids"] = r.generated;
    out["text"] = r.text;
    out["seed"] = sp.seed;
    out["stopped_by"] = r.stopped_by;
    out["timings"] = {{"prompt_tokens", ids.size()},
                      {"prompt_seconds", r.prefill_seconds},
                      {"prompt_tokens_per_second", r.prompt_tokens_per_second()},
                      {"time_to_first_token_seconds", r.first_token_seconds},
                      {"generated_tokens", r.generated.size()},
                      {"generation_seconds", r.generation_seconds},
                      {"generation_tokens_per_second", r.generation_tokens_per_second()}};
    out["processors"] = reference ? "fp32 reference interpreter (one CPU core)" : session.graph().describe;
    out["prefill"] = session.prefill_description();
    nlohmann::json lanes = nlohmann::json::array();
    for (const auto& lane : r.lanes)
      lanes.push_back({{"processor", lane.name},
                       {"busy_share", lane.busy_share},
                       {"bubble_share", lane.bubble_share},
                       {"shadow_seconds", lane.shadow}});
    out["lanes"] = lanes;
    out["shadow"] = {{"jobs", r.shadow_jobs.jobs},
                     {"on_host", r.shadow_jobs.on_host},
                     {"on_accelerator", r.shadow_jobs.on_accelerator},
                     {"host_seconds", r.shadow_jobs.host_seconds},
                     {"accelerator_seconds", r.shadow_jobs.accelerator_seconds}};
    // Prefill's outlier entries (activation elements beyond the static scale, each one row of shadow work)
    // and the distinct channels per call served by resident (hot) or mapped (cold) weight rows.
    out["shadow"]["outlier_entries"] = r.shadow.entries;
    out["shadow"]["entries_per_token_per_linear"] =
        r.shadow.shadowed_linears > 0
            ? double(r.shadow.entries) / double(ids.size()) / double(r.shadow.shadowed_linears)
            : 0.0;
    out["shadow"]["hot_channel_hits"] = r.shadow.hot;
    out["shadow"]["cold_channel_hits"] = r.shadow.cold;
    // Rows beyond the per-row shadow budget, recomputed with a dynamic activation scale (prefill).
    out["shadow"]["rows_over_budget"] = r.shadow.fallback_rows;
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
    std::fprintf(
        stderr,
        "prompt: %zu tokens in %.3f s, %.1f tokens/s | generation: %zu tokens in %.3f s, %.1f tokens/s\n",
        ids.size(), r.prefill_seconds, r.prompt_tokens_per_second(), r.generated.size(), r.generation_seconds,
        r.generation_tokens_per_second());
    std::fprintf(stderr, "%s", format_lane_summary(trace).c_str());
  }
  return 0;
}

Register reg("run", "generate text from a prompt (-m MODEL -p PROMPT -n N)", run_command);

}  // namespace
}  // namespace llmnpu::cli
