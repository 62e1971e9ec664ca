// Chunked prefill on processors: every policy and topology gives the logits of a plain one-chunk
// prefill, and the task graph enforces the paper's dependencies.
#include <gtest/gtest.h>

#include <cstring>

#include "backend/float_graph.h"
#include "common/compare.h"
#include "model/synth.h"
#include "runtime/chunked_prefill.h"
#include "runtime/task_graph.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

// The per-chunk subgraphs of a small Llama-layout model with `layers` layers.
std::vector<Subgraph> layer_subgraphs(int layers) {
  return build_chunk_subgraphs(test::small_config(layers), true);
}

std::unique_ptr<Model> small_model() {
  SynthOptions o;
  o.shape = "tiny";
  o.outliers = true;
  o.seed = 3;
  return synthesize_model(o, builtin_byte_vocab());
}

std::vector<int32_t> prompt(int n, int vocab) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back((i * 131 + 17) % vocab);
  return p;
}

TEST(TaskGraph, DependenciesFollowThePaper) {
  auto subs = layer_subgraphs(2);  // L0.qkv L0.attn L0.omlp L1.qkv L1.attn L1.omlp head
  TaskGraph g(subs, 3, {false, false, true});
  EXPECT_EQ(g.total_tasks(), 3 * 6 + 1);
  // Initially the first subgraph of every chunk is ready (static QKV of layer 0 needs only the embedding).
  EXPECT_EQ(g.ready().size(), 3u);
  g.start({1, 0});
  g.complete({1, 0});
  // Attention of chunk 1 needs attention of chunk 0 (its KV) first.
  for (TaskId t : g.ready()) EXPECT_FALSE(t.chunk == 1 && t.sub == 1);
  g.start({0, 0});
  g.complete({0, 0});
  // Chunk 0's attention unlocks its own O/MLP and chunk 1's attention (whose QKV is done).
  auto unlocked = g.unlocked_by({0, 1});
  EXPECT_EQ(unlocked.size(), 2u);
  g.start({0, 1});
  g.complete({0, 1});
  int attn1 = 0;
  for (TaskId t : g.ready()) attn1 += (t.chunk == 1 && t.sub == 1);
  EXPECT_EQ(attn1, 1);
}

TEST(TaskGraph, ChunksInFlightAreCapped) {
  auto subs = layer_subgraphs(1);  // L0.qkv L0.attn L0.omlp head
  TaskGraph g(subs, 4, {false, false, false, true});
  EXPECT_EQ(g.max_chunks_in_flight(), kDefaultMaxChunksInFlight);
  g.set_max_chunks_in_flight(2);
  const ProcessorView accel{true, false};
  LatencyModel latency;
  TaskId t;
  for (int c = 0; c < 2; ++c) {
    ASSERT_TRUE(pick_task(SchedulePolicy::OutOfOrder, g, accel, c, latency, &t));
    EXPECT_EQ(t.chunk, c);
    g.start(t);
  }
  EXPECT_EQ(g.chunks_in_flight(), 2);
  // Chunks 2 and 3 have ready QKV tasks, but two chunks are in flight already.
  EXPECT_FALSE(pick_task(SchedulePolicy::OutOfOrder, g, accel, 2, latency, &t));
  // Chunk 0 finishes: one more may start.
  g.complete({0, 0});
  for (int sub = 1; sub < 3; ++sub) {
    g.start({0, sub});
    g.complete({0, sub});
  }
  EXPECT_EQ(g.chunks_in_flight(), 1);
  ASSERT_TRUE(pick_task(SchedulePolicy::OutOfOrder, g, accel, 1, latency, &t));
  EXPECT_EQ(t.chunk, 2);
  g.start(t);
  EXPECT_EQ(g.chunks_in_flight(), 2);
  EXPECT_FALSE(pick_task(SchedulePolicy::OutOfOrder, g, accel, 2, latency, &t));  // chunk 3 waits
}

TEST(SchedulePolicy, PipelineKeepsTheYoungerChunkAFixedLagBehind) {
  auto subs = layer_subgraphs(2);  // L0.qkv L0.attn L0.omlp L1.qkv L1.attn L1.omlp head
  TaskGraph g(subs, 3, {false, false, true});
  const ProcessorView accel{true, false}, host{false, true};
  LatencyModel latency;
  TaskId t;
  ASSERT_TRUE(pick_task(SchedulePolicy::Pipeline, g, accel, 0, latency, &t));
  EXPECT_EQ(t.chunk, 0);
  EXPECT_EQ(t.sub, 0);
  g.start(t);
  g.complete(t);
  // Chunk 1's QKV (sub 0) waits until chunk 0 has finished sub 0 + lag = its attention.
  EXPECT_FALSE(pick_task(SchedulePolicy::Pipeline, g, accel, 0, latency, &t));
  ASSERT_TRUE(pick_task(SchedulePolicy::Pipeline, g, host, 0, latency, &t));
  EXPECT_EQ(t.chunk, 0);
  EXPECT_EQ(t.sub, 1);
  g.start(t);
  g.complete(t);
  // Now the accelerator has chunk 0's O/MLP and chunk 1's QKV: oldest first.
  ASSERT_TRUE(pick_task(SchedulePolicy::Pipeline, g, accel, 0, latency, &t));
  EXPECT_EQ(t.chunk, 0);
  EXPECT_EQ(t.sub, 2);
  g.start(t);
  // While it runs, the younger chunk's QKV is allowed (lag kept) but a third chunk never is.
  ASSERT_TRUE(pick_task(SchedulePolicy::Pipeline, g, accel, 1, latency, &t));
  EXPECT_EQ(t.chunk, 1);
  EXPECT_EQ(t.sub, 0);
  g.start(t);
  EXPECT_FALSE(pick_task(SchedulePolicy::Pipeline, g, accel, 2, latency, &t));  // chunk 2's QKV waits
  // ooo would have let chunk 1 (and 2) start right away; sequential never overlaps chunks.
  TaskGraph fresh(subs, 3, {false, false, true});
  fresh.start({0, 0});
  fresh.complete({0, 0});
  ASSERT_TRUE(pick_task(SchedulePolicy::OutOfOrder, fresh, accel, 0, latency, &t));
  EXPECT_GT(t.chunk, 0);
  EXPECT_FALSE(pick_task(SchedulePolicy::Sequential, fresh, accel, 0, latency, &t));
}

TEST(ChunkedPrefill, AllPoliciesAndTopologiesGiveTheSameLogits) {
  auto model = small_model();
  ModelGraph graph = build_float_graph(*model);
  // The float graph has only host subgraphs; mark static ones as accelerator work too, so the
  // heterogeneous topology really runs two processors at once (results must not change).
  ModelGraph hetero = build_float_graph(*model);
  hetero.chunk_subgraphs = build_chunk_subgraphs(hetero.program, true);
  auto ids = prompt(150, model->config.vocab_size);

  for (int threads : {1, 2}) {
    Engine plain(*model, graph, {threads, 256, nullptr});
    std::vector<float> reference = plain.prefill(ids, 32);
    std::vector<float> reference_decode = plain.decode(7);
    for (bool homogeneous : {true, false}) {
      for (auto policy : {SchedulePolicy::Sequential, SchedulePolicy::Pipeline, SchedulePolicy::OutOfOrder}) {
        Engine engine(*model, homogeneous ? graph : hetero, {threads, 256, nullptr});
        Topology topo;
        topo.homogeneous = homogeneous;
        topo.threads = threads;
        topo.npu_threads = threads;
        topo.cpu_threads = threads;
        topo.pin = false;
        ChunkedPrefill runner(engine, topo);
        Trace trace;
        std::vector<float> logits = runner.run(ids, {32, policy}, &trace);
        ASSERT_EQ(logits.size(), reference.size());
        EXPECT_EQ(0, std::memcmp(logits.data(), reference.data(), logits.size() * sizeof(float)))
            << schedule_policy_name(policy) << (homogeneous ? " homogeneous" : " heterogeneous") << ", "
            << threads << " thread(s) per processor";
        EXPECT_EQ(engine.position(), int(ids.size()));
        // Decode continues from the cache the scheduled prefill filled.
        std::vector<float> d = engine.decode(7);
        EXPECT_EQ(0, std::memcmp(d.data(), reference_decode.data(), d.size() * sizeof(float)));
        // 5 chunks x (3 per layer x 4 layers) + one head
        EXPECT_EQ(trace.slices().size(), size_t(5 * 12 + 1));
        for (const auto& lane : trace.summarize()) {
          EXPECT_GE(lane.busy_share, 0.0);
          EXPECT_LE(lane.busy_share, 1.0 + 1e-9);
        }
      }
    }
  }
}

TEST(ChunkedPrefill, ProfileSeedsEveryLatencyAndForgetsItsTokens) {
  auto model = small_model();
  ModelGraph hetero = build_float_graph(*model);
  hetero.chunk_subgraphs = build_chunk_subgraphs(hetero.program, true);
  auto ids = prompt(100, model->config.vocab_size);
  Engine plain(*model, hetero, {1, 256, nullptr});
  std::vector<float> reference = plain.prefill(ids, 32);

  Engine engine(*model, hetero, {1, 256, nullptr});
  Topology topo;
  topo.homogeneous = false;
  topo.pin = false;
  ChunkedPrefill runner(engine, topo);
  for (const Subgraph& sg : hetero.chunk_subgraphs) EXPECT_FALSE(runner.latency().knows(sg, 0));
  EXPECT_GT(runner.profile(32, SchedulePolicy::OutOfOrder), 0.0);
  EXPECT_EQ(engine.position(), 0);
  // Two chunks profiled; attention of later chunks is extrapolated by key count, static subgraphs shared.
  for (const Subgraph& sg : hetero.chunk_subgraphs) {
    for (int chunk : {0, 1, 3}) {
      if (sg.head && chunk != 1) continue;  // only the last chunk's head runs
      EXPECT_TRUE(runner.latency().knows(sg, chunk)) << sg.name() << " chunk " << chunk;
      EXPECT_GT(runner.latency().predict(sg, chunk), 0.0);
    }
  }
  // The profile's tokens are forgotten: the real prompt gives the plain engine's logits.
  std::vector<float> logits = runner.run(ids, {32, SchedulePolicy::OutOfOrder});
  EXPECT_EQ(0, std::memcmp(logits.data(), reference.data(), logits.size() * sizeof(float)));
}

TEST(ChunkedPrefill, PerTokenLogitsMatchEnginePrefill) {
  auto model = small_model();
  ModelGraph graph = build_float_graph(*model);
  auto ids = prompt(70, model->config.vocab_size);
  Engine a(*model, graph, {1, 128, nullptr});
  std::vector<std::vector<float>> ref;
  a.prefill(ids, 16, [&](int, const float* l) { ref.emplace_back(l, l + model->config.vocab_size); });
  Engine b(*model, graph, {1, 128, nullptr});
  Topology topo;
  topo.threads = 1;
  topo.pin = false;
  ChunkedPrefill runner(b, topo);
  size_t n = 0;
  runner.run(ids, {16, SchedulePolicy::OutOfOrder}, nullptr, [&](int pos, const float* l) {
    ASSERT_LT(size_t(pos), ref.size());
    EXPECT_EQ(0, std::memcmp(l, ref[size_t(pos)].data(), ref[0].size() * sizeof(float)));
    ++n;
  });
  EXPECT_EQ(n, ids.size());
}

}  // namespace
}  // namespace llmnpu
