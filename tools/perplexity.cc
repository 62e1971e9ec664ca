// llmnpu perplexity: perplexity of a model over a text file, with its standard error.
#include "runtime/perplexity.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/timer.h"
#include "flags.h"
#include "model_options.h"

namespace llmnpu::cli {
namespace {

int perplexity_command(int argc, char** argv) {
  CLI::App app{"Perplexity over a text file, in windows of the context size (-c)."};
  app.name(argv[0]);
  ModelOptions mo;
  mo.add_to(app);
  std::string file;
  int max_windows = 0, chunk = 0;
  bool json = false, llama_cpp = false;
  app.add_option("-f,--file", file, "text file to score")->required();
  app.add_option("--chunks", max_windows, "score at most this many windows (default: all)")
      ->check(integer_in(1, int64_t(1) << 30));
  app.add_option("--chunk", chunk, "prefill chunk length (default 0: the whole window)")
      ->check(integer_in(0, kMaxTokensFlag));
  app.add_flag(
      "--llama-cpp-windows", llama_cpp,
      "score as llama-perplexity does (one trailing newline stripped, BOS replacing each window's first "
      "token, the second half of each window scored), to compare with llama.cpp's numbers");
  app.add_flag("--json", json, "print JSON (perplexity, stderr, every scored token's log-probability)");
  LLMNPU_PARSE_FLAGS(app, argc, argv);
  if (mo.context == 0) mo.context = 512;

  chunk = std::min(chunk, mo.context);  // a chunk never holds more than one window
  std::string text = read_text_file(file);
  LoadedModel lm = load_for_inference(mo);
  const Model& model = *lm.model;
  check(model.tokenizer != nullptr, "model has no tokenizer: pass one with --tokenizer");
  int32_t bos = model.tokenizer->adds_bos() ? model.tokenizer->bos_id() : -1;
  if (llama_cpp && !text.empty() && text.back() == '\n') text.pop_back();
  std::vector<int32_t> ids = model.tokenizer->encode(text, llama_cpp && bos >= 0);

  double t0 = now_seconds();
  PerplexityResult r;
  {
    int per_window = bos >= 0 && !llama_cpp ? mo.context - 1 : mo.context;
    int total = int(ids.size()) / std::max(1, per_window);
    if (max_windows > 0) total = std::min(total, max_windows);
    ProgressBar progress("perplexity", size_t(std::max(total, 0)), true);
    auto report = [&](int done, int) { progress.update(size_t(done)); };
    r = llama_cpp ? compute_perplexity_llama_cpp(*lm.engine, ids, mo.context, bos, max_windows, chunk, report)
                  : compute_perplexity(*lm.engine, ids, mo.context, bos, max_windows, chunk, report);
  }
  double seconds = now_seconds() - t0;

  if (json) {
    nlohmann::json out;
    out["model"] = mo.model_path;
    out["file"] = file;
    out["context"] = mo.context;
    out["windows"] = r.windows;
    out["scored_tokens"] = r.tokens.size();
    out["perplexity"] = r.perplexity;
    out["perplexity_stderr"] = r.perplexity_stderr;
    out["mean_nll"] = r.mean_nll;
    out["seconds"] = seconds;
    nlohmann::json toks = nlohmann::json::array();
    for (const auto& t : r.tokens)
      toks.push_back({{"pos", t.position}, {"id", t.id}, {"logprob", t.logprob}});
    out["tokens"] = std::move(toks);
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("perplexity: %.4f +/- %.4f over %zu tokens (%d windows of %d, %.1f s, %s)\n", r.perplexity,
                r.perplexity_stderr, r.tokens.size(), r.windows, mo.context, seconds,
                lm.graph->describe.c_str());
  }
  return 0;
}

Register reg("perplexity", "perplexity of a model over a text file (-m MODEL -f TEXT -c CTX)",
             perplexity_command);

}  // namespace
}  // namespace llmnpu::cli
