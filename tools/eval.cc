// llmnpu eval: accuracy of a prepared (W8A8 + shadow) model against its float reference, with
// ablations; and multiple-choice benchmarks (hellaswag, openbookqa) scored by summed log-likelihood.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "backend/q8_block_linear.h"
#include "command.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/timer.h"
#include "flags.h"
#include "model_options.h"
#include "prepare/accuracy.h"
#include "runtime/perplexity.h"

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

  LoadOptions lo;
  lo.tokenizer_path = tokenizer;
  std::unique_ptr<Model> ref = load_model(ref_path, lo);
  check(ref->tokenizer != nullptr, "the reference model has no tokenizer: pass one with --tokenizer");
  ModelGraph ref_graph = build_float_graph(*ref);
  EngineOptions eo;
  eo.threads = threads;
  eo.context = context;
  Engine ref_engine(*ref, ref_graph, eo);

  PreparedGraph prepared;
  const bool is_prepared = is_prepared_model(model_path);
  if (is_prepared) {
    prepared = load_prepared_model(model_path, lo);
  } else {
    prepared.model = load_model(model_path, lo);
    prepared.graph = std::make_unique<ModelGraph>(build_float_graph(*prepared.model));
  }
  const ModelConfig& a = ref->config;
  const ModelConfig& b = prepared.model->config;
  check(a.dim == b.dim && a.n_layers == b.n_layers && a.vocab_size == b.vocab_size, "'", model_path,
        "' does not have the shape of the reference '", ref_path, "'");
  Engine engine(*prepared.model, *prepared.graph, eo);
  auto& ops = prepared.linears;

  std::vector<int32_t> ids = ref->tokenizer->encode(read_text_file(file), false);
  if (ids.size() > size_t(max_tokens)) ids.resize(size_t(max_tokens));
  check(ids.size() >= 2, "'", file, "' holds ", ids.size(), " tokens of text: too few to score");
  const int32_t bos = ref->tokenizer->adds_bos() ? ref->tokenizer->bos_id() : -1;

  std::vector<int64_t> stored_shadow;
  for (auto* op : ops) stored_shadow.push_back(op->shadow());
  const size_t hot_bytes = resident_shadow_bytes(ops), int8_bytes = int8_weight_bytes(ops);
  size_t all_bytes = 0;
  for (auto* op : ops)
    all_bytes += size_t(op->in_features()) * size_t(op->out_features()) * 2 + op->weight_outlier_bytes();

  struct Row {
    AccuracyVariant v;
    size_t resident = 0;
  };
  std::vector<Row> rows;
  auto restore = [&] {
    for (size_t i = 0; i < ops.size(); ++i) ops[i]->set_shadow(stored_shadow[i] != 0);
  };
  rows.push_back(
      {{is_prepared ? "prepared (hot channels + pruning)" : "model", &engine, restore}, hot_bytes});
  std::unique_ptr<ModelGraph> q8_graph;
  std::unique_ptr<Engine> q8_engine;
  if (ablations && is_prepared) {
    rows.push_back({{"w8a8 per-tensor, no shadow", &engine,
                     [&] {
                       for (auto* op : ops) op->set_shadow(false);
                     }},
                    0});
    rows.push_back({{"shadow on all linears, all rows resident", &engine,
                     [&] {
                       for (auto* op : ops) {
                         op->set_shadow(true);
                         if (op->hot_count() != size_t(op->in_features())) op->make_all_resident();
                       }
                     }},
                    all_bytes});
  }
  if (ablations) {
    q8_graph = std::make_unique<ModelGraph>(build_q8_block_graph(*ref));
    q8_engine = std::make_unique<Engine>(*ref, *q8_graph, eo);
    rows.push_back({{"q8 blocks of 32 (dynamic, reference)", q8_engine.get(), nullptr}, 0});
  }
  std::vector<AccuracyVariant> variants;
  for (auto& r : rows) variants.push_back(r.v);

  const double t0 = now_seconds();
  std::vector<AccuracyResult> results;
  {
    ProgressBar bar("eval", make_windows(ids, context, bos).size(), true);
    results = compare_to_reference(ref_engine, variants, ids, context, bos,
                                   [&](int d, int) { bar.update(size_t(d)); });
  }
  const double seconds = now_seconds() - t0;

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
                      {"resident_shadow_bytes", rows[i].resident}});
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
                  int8_bytes ? 100.0 * double(rows[i].resident) / double(int8_bytes) : 0.0);
    }
    if (is_prepared)
      std::printf("(shadow res.: resident shadow bytes as a share of the %zu int8 weight bytes)\n",
                  int8_bytes);
  }
  return 0;
}

// --- multiple choice ----------------------------------------------------------------------------------

struct Task {
  std::string context;
  std::vector<std::string> endings;
  int label = 0;
};

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

// HellaSwag as llama.cpp's hellaswag_val_full.txt: 6 lines per task (context, label 0-3, 4 endings).
std::vector<Task> parse_hellaswag(const std::string& text, const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  check(!lines.empty() && lines.size() % 6 == 0, "'", path,
        "': expected 6 lines per task (context, label, 4 endings), got ", lines.size(), " lines");
  std::vector<Task> tasks;
  for (size_t i = 0; i < lines.size(); i += 6) {
    Task t;
    t.context = lines[i];
    const std::string& label = lines[i + 1];
    check(label.size() == 1 && label[0] >= '0' && label[0] <= '3', "'", path, "' line ", i + 2, ": label '",
          label, "' is not 0-3");
    t.label = label[0] - '0';
    for (int e = 0; e < 4; ++e) t.endings.push_back(lines[i + 2 + size_t(e)]);
    tasks.push_back(std::move(t));
  }
  return tasks;
}

// OpenBookQA TSV: ID, Question Stem, Choices "(A) .. (B) .. (C) .. (D) ..", Complete Question, Answer Key.
std::vector<Task> parse_openbookqa(const std::string& text, const std::string& path) {
  std::vector<Task> tasks;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("ID\t", 0) == 0)) continue;
    std::vector<std::string> cols;
    std::istringstream row(line);
    for (std::string col; std::getline(row, col, '\t');) cols.push_back(col);
    check(cols.size() >= 5, "'", path, "' line ", number, ": expected 5 tab-separated columns, got ",
          cols.size());
    Task t;
    t.context = cols[1];
    const std::string& choices = cols[2];
    const char* marks[] = {"(A) ", "(B) ", "(C) ", "(D) "};
    for (const char* mark : marks)
      check(choices.find(mark) != std::string::npos, "'", path, "' line ", number, ": choice ",
            std::string(mark, 3), " is missing");
    for (int e = 0; e < 4; ++e) {
      const size_t at = choices.find(marks[e]);
      check(at != std::string::npos, "'", path, "' line ", number, ": choice ", marks[e], "is missing");
      const size_t begin = at + 4;
      const size_t end = e < 3 ? choices.find(marks[e + 1], begin) : std::string::npos;
      check(e == 3 || end != std::string::npos, "'", path, "' line ", number, ": choices out of order");
      std::string s = choices.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
      while (!s.empty() && s.back() == ' ') s.pop_back();
      t.endings.push_back(s);
    }
    const std::string& key = cols[4];
    check(key.size() == 1 && key[0] >= 'A' && key[0] <= 'D', "'", path, "' line ", number, ": answer key '",
          key, "' is not A-D");
    t.label = key[0] - 'A';
    tasks.push_back(std::move(t));
  }
  check(!tasks.empty(), "'", path, "' holds no questions");
  return tasks;
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
  std::vector<Task> tasks =
      benchmark == "hellaswag" ? parse_hellaswag(text, file) : parse_openbookqa(text, file);
  if (limit > 0 && tasks.size() > size_t(limit)) tasks.resize(size_t(limit));
  LoadedModel lm = load_for_inference(mo);
  const Tokenizer* tok = lm.model->tokenizer.get();
  check(tok != nullptr, "model has no tokenizer: pass one with --tokenizer");
  const int32_t bos = tok->adds_bos() ? tok->bos_id() : -1;
  const int vocab = lm.model->config.vocab_size;
  Engine& engine = *lm.engine;

  int correct = 0;
  nlohmann::json items = nlohmann::json::array();
  ProgressBar bar(benchmark, tasks.size(), true);
  for (size_t ti = 0; ti < tasks.size(); ++ti) {
    const Task& t = tasks[ti];
    std::vector<int32_t> ctx = tok->encode(t.context, false);
    if (bos >= 0) ctx.insert(ctx.begin(), bos);
    std::vector<double> sums;
    for (const std::string& ending : t.endings) {
      std::vector<int32_t> full = tok->encode(t.context + " " + ending, false);
      if (bos >= 0) full.insert(full.begin(), bos);
      // The ending's tokens are those after the longest prefix shared with the context alone.
      size_t common = 0;
      while (common < ctx.size() && common < full.size() && ctx[common] == full[common]) ++common;
      common = std::max<size_t>(common, 1);
      check(full.size() > common, "task ", ti, ": an ending adds no tokens");
      check(int(full.size()) <= engine.context(), "task ", ti, ": ", full.size(),
            " tokens do not fit in the context of ", engine.context(), " (raise -c)");
      double sum = 0;
      engine.reset();
      engine.prefill(full, 0, [&](int pos, const float* logits) {
        if (size_t(pos) + 1 >= common && size_t(pos) + 1 < full.size())
          sum += token_logprob(logits, vocab, full[size_t(pos) + 1]);
      });
      sums.push_back(sum);
    }
    const int chosen = int(std::max_element(sums.begin(), sums.end()) - sums.begin());
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
