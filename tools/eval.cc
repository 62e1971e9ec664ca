// llmnpu eval: accuracy of a prepared (W8A8 + shadow) model against its float reference, with
// ablations; and multiple-choice benchmarks (hellaswag, openbookqa) scored by summed log-likelihood.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.h"
#include "core/error.h"
#include "core/progress.h"
#include "flags.h"
#include "model_options.h"
#include "prepare/accuracy.h"
#include "prepare/kl_evaluation.h"
#include "prepare/multiple_choice.h"

namespace llmnpu::cli {
namespace {

// --- KL against the float reference -----------------------------------------------------------------

int kl_command(int argc, char** argv) {
  CLI::App app{"Per-token KL(float || prepared), top-1 agreement and perplexities over a text file."};
  app.name(argv[0]);
  std::string ref_path, model_path, file, tokenizer;
  int context = 512, max_tokens = 4096, threads = 0;
  bool json = false, ablations = false;
  app.add_option("--ref", ref_path, "float reference model")->required();
  app.add_option("model", model_path, "prepared model (llmnpu prepare), or any model")->required();
  app.add_option("-f,--file", file, "text file")->required();
  app.add_option("-c,--ctx-size", context, "window size in tokens (default 512)")
      ->check(integer_in(2, kMaxTokensFlag));
  app.add_option("--tokens", max_tokens, "score at most this many text tokens (default 4096)")
      ->check(integer_in(1, int64_t(1) << 30));
  app.add_option("-t,--threads", threads, "threads (default: all cores)")->check(thread_count());
  app.add_option("--tokenizer", tokenizer, "tokenizer to use instead of the reference model's");
  app.add_flag("--ablations", ablations,
               "also evaluate: W8A8 without shadow, shadow on every linear with all rows resident, and a "
               "per-block (32) dynamic int8 baseline built from the float model");
  app.add_flag("--json", json, "print JSON");
  LLMNPU_PARSE_FLAGS(app, argc, argv);

  KlEvaluationOptions o;
  o.reference_path = ref_path;
  o.model_path = model_path;
  o.tokenizer_path = tokenizer;
  o.text = read_text_file(file);
  o.context = context;
  o.max_tokens = max_tokens;
  o.threads = threads;
  o.ablations = ablations;
  StageProgressBars bars;
  const KlEvaluation ev = evaluate_against_float(
      o, [&](int done, int total) { bars.update("eval", size_t(done), size_t(total)); });
  const std::vector<AccuracyResult>& results = ev.results;
  const size_t int8_bytes = ev.int8_weight_bytes;
  const double seconds = ev.seconds;
  const bool is_prepared = ev.is_prepared;
  if (json) {
    nlohmann::json out;
    out["reference"] = ref_path;
    out["model"] = model_path;
    out["file"] = file;
    out["context"] = context;
    out["int8_weight_bytes"] = int8_bytes;
    out["seconds"] = seconds;
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      list.push_back({{"name", r.name},
                      {"tokens", r.tokens},
                      {"mean_kl", r.mean_kl},
                      {"p99_kl", r.p99_kl},
                      {"max_kl", r.max_kl},
                      {"top1_agreement", r.top1_agreement},
                      {"ppl_ref", r.ppl_ref},
                      {"ppl", r.ppl},
                      {"resident_shadow_bytes", ev.resident_bytes[i]}});
    }
    out["results"] = std::move(list);
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%d scored tokens (windows of %d), reference perplexity %.4f, %.1f s\n",
                results.empty() ? 0 : results[0].tokens, context, results.empty() ? 0.0 : results[0].ppl_ref,
                seconds);
    std::printf("%-42s %10s %10s %10s %8s %10s %12s\n", "variant", "mean KL", "p99 KL", "max KL", "top-1",
                "ppl", "shadow res.");
    for (size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      std::printf("%-42s %10.3g %10.3g %10.3g %8.4f %10.4g %11.3f%%\n", r.name.c_str(), r.mean_kl, r.p99_kl,
                  r.max_kl, r.top1_agreement, r.ppl,
                  int8_bytes ? 100.0 * double(ev.resident_bytes[i]) / double(int8_bytes) : 0.0);
    }
    if (is_prepared)
      std::printf("(shadow res.: resident shadow bytes as a share of the %zu int8 weight bytes)\n",
                  int8_bytes);
  }
  return 0;
}

// --- multiple choice ----------------------------------------------------------------------------------

std::string read_maybe_bz2(const std::string& path) {
  if (path.size() < 4 || path.substr(path.size() - 4) != ".bz2") return read_text_file(path);
  {
    std::FILE* probe = std::fopen(path.c_str(), "rb");
    check(probe != nullptr, "cannot read '", path, "'");
    std::fclose(probe);
  }
  std::string quoted = "'";
  for (char ch : path) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  quoted += "'";
  std::FILE* p = popen(("bzip2 -dc " + quoted + " 2>/dev/null").c_str(), "r");
  check(p != nullptr, "cannot run bzip2 to read '", path, "' (decompress it first)");
  std::string out;
  char buf[65536];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  const int rc = pclose(p);
  check(rc == 0, "bzip2 could not decompress '", path, "' (is bzip2 installed? or decompress it first)");
  return out;
}

int choice_command(const std::string& benchmark, int argc, char** argv) {
  CLI::App app{"Multiple-choice accuracy (" + benchmark + ") by summed log-likelihood of each ending."};
  app.name(argv[0]);
  ModelOptions mo;
  mo.add_to(app);
  std::string file;
  int limit = 0;
  bool json = false;
  app.add_option("-f,--file", file, "benchmark file")->required();
  app.add_option("--limit", limit, "evaluate at most this many tasks (default 0: all)")
      ->check(integer_in(0, int64_t(1) << 30));
  app.add_flag("--json", json, "print JSON (accuracy and every ending's summed log-probability)");
  LLMNPU_PARSE_FLAGS(app, argc, argv);

  const std::string text = read_maybe_bz2(file);
  std::vector<ChoiceTask> tasks =
      benchmark == "hellaswag" ? parse_hellaswag(text, file) : parse_openbookqa(text, file);
  if (limit > 0 && tasks.size() > size_t(limit)) tasks.resize(size_t(limit));
  LoadedModel lm = load_for_inference(mo);
  const Tokenizer* tok = lm.model->tokenizer.get();
  check(tok != nullptr, "model has no tokenizer: pass one with --tokenizer");
  Engine& engine = *lm.engine;

  int correct = 0;
  nlohmann::json items = nlohmann::json::array();
  ProgressBar bar(benchmark, tasks.size(), true);
  for (size_t ti = 0; ti < tasks.size(); ++ti) {
    const ChoiceTask& t = tasks[ti];
    const ChoiceScore score = score_choice_task(engine, *tok, t, ti);
    const int chosen = score.chosen;
    const std::vector<double>& sums = score.logprob_sums;
    correct += chosen == t.label ? 1 : 0;
    items.push_back({{"label", t.label}, {"chosen", chosen}, {"logprob_sums", sums}});
    bar.update(ti + 1);
  }
  bar.finish();
  const double acc = double(correct) / double(tasks.size());
  if (json) {
    nlohmann::json out{{"benchmark", benchmark}, {"model", mo.model_path}, {"tasks", tasks.size()},
                       {"correct", correct},     {"accuracy", acc},        {"items", items}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s: %d / %zu correct, accuracy %.4f (summed log-likelihood; %s)\n", benchmark.c_str(),
                correct, tasks.size(), acc, lm.graph->describe.c_str());
  }
  return 0;
}

int eval_command(int argc, char** argv) {
  if (argc >= 2) {
    const std::string sub = argv[1];
    if (sub == "hellaswag" || sub == "openbookqa") {
      std::string name = std::string(argv[0]) + " " + sub;
      std::vector<char*> args{name.data()};
      for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
      return choice_command(sub, int(args.size()), args.data());
    }
  }
  return kl_command(argc, argv);
}

Register reg(
    "eval",
    "accuracy vs float: eval --ref FLOAT PREPARED -f TEXT [--ablations]; eval hellaswag|openbookqa -m M -f F",
    eval_command);

}  // namespace
}  // namespace llmnpu::cli
