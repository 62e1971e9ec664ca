// The Backend interface is the seam a vendor NPU SDK plugs into: an accelerator backend given to the
// engine compiles each static subgraph's program once per chunk length, executes only chunks of the
// compiled shape, and is not used by decode (the host runs it). The fake accelerator here knows nothing
// of the model: it compiles whatever ops it is given (with the reference interpreter's plain loops).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <utility>

#include "backend/cpu_backend.h"
#include "backend/float_graph.h"
#include "backend/reference_interpreter.h"
#include "common/compare.h"
#include "core/error.h"
#include "model/synth.h"
#include "runtime/chunked_prefill.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

using test::max_abs_diff;

// A fake accelerator: the subgraph's ops run row by row with plain loops, weights read through the graph.
class ProgramCompiled final : public CompiledSubgraph {
 public:
  ProgramCompiled(const Subgraph& sg, const ModelGraph& g)
      : ops_(sg.ops), program_(g.program), weights_(graph_reference_weights(g)) {}
  void execute(Chunk& chunk, ExecContext& cx) override {
    for (int r = 0; r < chunk.T; ++r)
      reference_run_row(program_, ops_, *weights_, chunk, r, 0, chunk.pos0 + r, cx.cache);
  }

 private:
  std::vector<Op> ops_;
  const ModelProgram& program_;
  std::unique_ptr<ReferenceWeights> weights_;
};

class ProgramBackend final : public Backend {
 public:
  std::string name() const override { return "program interpreter"; }
  // An integer static-graph accelerator: norms, linears, activations and adds; nothing position-dependent.
  std::string unsupported(const Subgraph& sg, const ModelGraph& g) const override {
    if (!sg.is_static || sg.role != Role::Accelerator) return "not an accelerator subgraph";
    for (const Op& op : sg.ops)
      if (op.kind == OpKind::Rope || op.kind == OpKind::Attention || op.kind == OpKind::Embed)
        return "op '" + format_op(g.program, op) + "' is not static";
    return {};
  }
  std::unique_ptr<CompiledSubgraph> compile(const Subgraph& sg, const ModelGraph& g, int) override {
    return std::make_unique<ProgramCompiled>(sg, g);
  }
};

// Wraps an accelerator backend and records what the engine asks of it.
struct Calls {
  std::map<std::pair<int, int>, int> compiles;  // (subgraph index, chunk length) -> count
  int executes = 0;
  int wrong_shape = 0;  // executes of a chunk whose row count is not the compiled length
};

class RecordingCompiled final : public CompiledSubgraph {
 public:
  RecordingCompiled(std::unique_ptr<CompiledSubgraph> inner, int chunk_len, Calls& calls)
      : inner_(std::move(inner)), chunk_len_(chunk_len), calls_(calls) {}
  void execute(Chunk& chunk, ExecContext& context) override {
    ++calls_.executes;
    if (chunk.rows != chunk_len_) ++calls_.wrong_shape;
    inner_->execute(chunk, context);
  }

 private:
  std::unique_ptr<CompiledSubgraph> inner_;
  int chunk_len_;
  Calls& calls_;
};

class RecordingBackend final : public Backend {
 public:
  explicit RecordingBackend(Calls& calls) : calls_(calls) {}
  std::string name() const override { return "recording " + inner_.name(); }
  std::string unsupported(const Subgraph& sg, const ModelGraph& g) const override {
    return inner_.unsupported(sg, g);
  }
  std::unique_ptr<CompiledSubgraph> compile(const Subgraph& sg, const ModelGraph& g, int chunk_len) override {
    ++calls_.compiles[{sg.index, chunk_len}];
    return std::make_unique<RecordingCompiled>(inner_.compile(sg, g, chunk_len), chunk_len, calls_);
  }

 private:
  ProgramBackend inner_;
  Calls& calls_;
};

TEST(BackendSeam, AnInjectedAcceleratorCompilesOncePerChunkLengthAndSkipsDecode) {
  SynthOptions o;
  o.shape = "tiny";
  o.seed = 5;
  auto model = synthesize_model(o, builtin_byte_vocab());
  // A float graph whose static subgraphs are marked as accelerator work (as a prepared model's are).
  ModelGraph graph = build_float_graph(*model);
  graph.chunk_subgraphs = build_chunk_subgraphs(graph.program, true);
  std::vector<int32_t> ids;
  for (int i = 0; i < 90; ++i) ids.push_back((i * 37 + 5) % model->config.vocab_size);

  Engine plain(*model, graph, {1, 256, nullptr});
  const std::vector<float> reference = plain.prefill(ids, 32);
  const std::vector<float> reference_decode = plain.decode(9);

  Calls calls;
  EngineOptions eo{1, 256, [&](const ModelGraph&) {
                     return std::unique_ptr<Backend>(std::make_unique<RecordingBackend>(calls));
                   }};
  Engine engine(*model, graph, eo);
  EXPECT_EQ(engine.accelerator_backend().name().rfind("recording", 0), 0u);
  int accelerator_statics = 0;
  for (const Subgraph& sg : graph.chunk_subgraphs) accelerator_statics += sg.role == Role::Accelerator;
  ASSERT_GT(accelerator_statics, 0);
  EXPECT_TRUE(calls.compiles.empty());  // compiled for a chunk length before its first chunk runs

  Topology topo;
  topo.homogeneous = false;
  topo.pin = false;
  ChunkedPrefill runner(engine, topo);
  std::vector<float> logits = runner.run(ids, {32, SchedulePolicy::OutOfOrder});
  EXPECT_LT(max_abs_diff(logits, reference), 1e-3f);
  // One compile per accelerator subgraph for chunks of 32; every execute saw that shape.
  EXPECT_EQ(int(calls.compiles.size()), accelerator_statics);
  for (const auto& [key, count] : calls.compiles) EXPECT_EQ(key.second, 32) << "subgraph " << key.first;
  EXPECT_EQ(calls.wrong_shape, 0);
  // 3 chunks (90 tokens / 32, the last padded) x the accelerator subgraphs per chunk.
  EXPECT_EQ(calls.executes, 3 * accelerator_statics);
  // A second prompt of another length compiles nothing new; another chunk length compiles once more.
  engine.reset();
  runner.run(std::vector<int32_t>(ids.begin(), ids.begin() + 50), {32, SchedulePolicy::OutOfOrder});
  EXPECT_EQ(int(calls.compiles.size()), accelerator_statics);
  engine.reset();
  runner.run(ids, {16, SchedulePolicy::Sequential});
  EXPECT_EQ(int(calls.compiles.size()), 2 * accelerator_statics);
  for (const auto& [key, count] : calls.compiles) EXPECT_EQ(count, 1) << "subgraph " << key.first;
  EXPECT_EQ(calls.wrong_shape, 0);
  // Unchunked prefill (--chunk 0) runs on the host, whatever its length.
  engine.reset();
  const int before = calls.executes;
  const std::vector<float> whole = engine.prefill(ids, 0);
  EXPECT_EQ(calls.executes, before);
  ASSERT_EQ(whole.size(), reference.size());
  engine.reset();
  logits = runner.run(ids, {32, SchedulePolicy::OutOfOrder});

  // Decode runs on the host from the same cache: the accelerator sees nothing.
  const int executes = calls.executes;
  std::vector<float> d = engine.decode(9);
  EXPECT_EQ(calls.executes, executes);
  EXPECT_LT(max_abs_diff(d, reference_decode), 1e-3f);

  // A backend that refuses the graph's accelerator subgraphs is a clear error at load.
  struct Refusing final : Backend {
    std::string name() const override { return "refusing"; }
    std::string unsupported(const Subgraph&, const ModelGraph&) const override { return "no ops at all"; }
    std::unique_ptr<CompiledSubgraph> compile(const Subgraph&, const ModelGraph&, int) override {
      return nullptr;
    }
  };
  EngineOptions bad{1, 256,
                    [](const ModelGraph&) { return std::unique_ptr<Backend>(std::make_unique<Refusing>()); }};
  try {
    Engine refused(*model, graph, bad);
    ADD_FAILURE() << "a refusing backend was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("refusing cannot run subgraph L0.qkv: no ops at all"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace llmnpu
