#include "prepare/kl_evaluation.h"

#include <memory>

#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "backend/q8_block_linear.h"
#include "core/error.h"
#include "core/timer.h"
#include "model/loader.h"
#include "runtime/engine.h"

namespace llmnpu {

KlEvaluation evaluate_against_float(const KlEvaluationOptions& options,
                                    const std::function<void(int, int)>& progress) {
  LoadOptions lo;
  lo.tokenizer_path = options.tokenizer_path;
  std::unique_ptr<Model> ref = load_model(options.reference_path, lo);
  check(ref->tokenizer != nullptr, "the reference model has no tokenizer: pass one with --tokenizer");
  ModelGraph ref_graph = build_float_graph(*ref);
  EngineOptions eo;
  eo.threads = options.threads;
  eo.context = options.context;
  Engine ref_engine(*ref, ref_graph, eo);

  PreparedGraph prepared;
  const bool is_prepared = is_prepared_model(options.model_path);
  if (is_prepared) {
    prepared = load_prepared_model(options.model_path, lo);
  } else {
    prepared.model = load_model(options.model_path, lo);
    prepared.graph = std::make_unique<ModelGraph>(build_float_graph(*prepared.model));
  }
  const ModelConfig& a = ref->config;
  const ModelConfig& b = prepared.model->config;
  check(a.dim == b.dim && a.n_layers == b.n_layers && a.vocab_size == b.vocab_size, "'", options.model_path,
        "' does not have the shape of the reference '", options.reference_path, "'");
  Engine engine(*prepared.model, *prepared.graph, eo);
  auto& ops = prepared.linears;

  std::vector<int32_t> ids = ref->tokenizer->encode(options.text, false);
  if (ids.size() > size_t(options.max_tokens)) ids.resize(size_t(options.max_tokens));
  check(ids.size() >= 2, "the text holds ", ids.size(), " tokens: too few to score");
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
  if (options.ablations && is_prepared) {
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
  if (options.ablations) {
    q8_graph = std::make_unique<ModelGraph>(build_q8_block_graph(*ref));
    q8_engine = std::make_unique<Engine>(*ref, *q8_graph, eo);
    rows.push_back({{"q8 blocks of 32 (dynamic, reference)", q8_engine.get(), nullptr}, 0});
  }
  std::vector<AccuracyVariant> variants;
  for (auto& r : rows) variants.push_back(r.v);

  const double t0 = now_seconds();
  std::vector<AccuracyResult> results;
  results = compare_to_reference(ref_engine, variants, ids, options.context, bos, progress);
  const double seconds = now_seconds() - t0;

  KlEvaluation out;
  out.is_prepared = is_prepared;
  out.results = std::move(results);
  for (const auto& r : rows) out.resident_bytes.push_back(r.resident);
  out.int8_weight_bytes = int8_bytes;
  out.seconds = seconds;
  return out;
}

}  // namespace llmnpu
