// A prepared W8A8 model (made by the real `prepare` command) through the chunked runtime: chunked
// prefill equals one-chunk prefill within float tolerance, every schedule and topology gives the same
// logits bit for bit, and decode continues from the scheduled prefill's cache.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "backend/prepared_graph.h"
#include "common/testdata.h"
#include "runtime/chunked_prefill.h"

namespace llmnpu {
namespace {

TEST(PreparedChunking, ChunkedEqualsOneChunkAndSchedulesAgree) {
  LLMNPU_REQUIRE_SHARED("testdata/eval/wikitext-2-raw/wiki.test.lf.raw");
  std::string dir = test::temp_dir(), out;
  std::string f = dir + "/chunk-tiny.gguf", p = dir + "/chunk-tiny.w8a8.gguf";
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " synth --shape tiny-qwen2 --outliers --seed 9 -o " + f,
                              &out),
            0)
      << out;
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " prepare -m " + f + " --calib " +
                                  test::shared_path("testdata/eval/wikitext-2-raw/wiki.test.lf.raw") +
                                  " --calib-tokens 1024 --prune 0 -t 1 -o " + p,
                              &out),
            0)
      << out;
  PreparedGraph prepared = load_prepared_model(p);
  const Model& model = *prepared.model;
  const ModelGraph& graph = *prepared.graph;
  ASSERT_TRUE(graph.quantized);
  std::vector<int32_t> ids;
  for (int i = 0; i < 90; ++i) ids.push_back((i * 37 + 11) % model.config.vocab_size);

  Engine whole(model, graph, {1, 128, nullptr});
  std::vector<float> one_chunk = whole.prefill(ids);
  std::vector<float> after_one_chunk = whole.decode(5);

  std::vector<float> reference;
  for (bool homogeneous : {true, false}) {
    for (auto policy : {SchedulePolicy::Sequential, SchedulePolicy::Pipeline, SchedulePolicy::OutOfOrder}) {
      Engine engine(model, graph, {1, 128, nullptr});
      Topology topo;
      topo.homogeneous = homogeneous;
      topo.threads = 1;
      topo.pin = false;
      ChunkedPrefill runner(engine, topo);
      std::vector<float> logits = runner.run(ids, {16, policy});
      if (reference.empty()) reference = logits;
      ASSERT_EQ(logits.size(), reference.size());
      EXPECT_EQ(0, std::memcmp(logits.data(), reference.data(), logits.size() * sizeof(float)))
          << schedule_policy_name(policy) << (homogeneous ? " homo" : " hetero");
      float diff = 0, decode_diff = 0;
      for (size_t i = 0; i < logits.size(); ++i) diff = std::max(diff, std::fabs(logits[i] - one_chunk[i]));
      const std::vector<float>& next = engine.decode(5);
      for (size_t i = 0; i < next.size(); ++i)
        decode_diff = std::max(decode_diff, std::fabs(next[i] - after_one_chunk[i]));
      EXPECT_LT(diff, 1e-3f) << "chunked vs one-chunk W8A8 prefill";
      EXPECT_LT(decode_diff, 1e-3f) << "decode after chunked vs one-chunk prefill";
      if (policy == SchedulePolicy::OutOfOrder && homogeneous)
        std::printf("W8A8 chunk 16 vs one chunk: max |logit diff| prefill %.3g, next decode step %.3g\n",
                    diff, decode_diff);
    }
  }

  // Shadow work as host work: on the heterogeneous topology every int8 linear's shadow pass goes to the
  // host role (no size threshold here) or stays inline; the logits are the same bit for bit, and the
  // program shows a shadow op after each linear that kept its shadow path.
  int shadow_ops = 0;
  for (const Subgraph& sg : graph.chunk_subgraphs) shadow_ops += sg.shadow_ops();
  EXPECT_EQ(shadow_ops, 4 * model.config.n_layers);
  for (int threads : {1, 2}) {
    std::vector<float> placed_logits[2];
    for (bool on_host : {true, false}) {
      Engine engine(model, graph, {1, 128, nullptr});
      Topology topo;
      topo.homogeneous = false;
      topo.npu_threads = threads;
      topo.cpu_threads = threads;
      topo.pin = false;
      ChunkedPrefill runner(engine, topo);
      PrefillPlan plan{16, SchedulePolicy::OutOfOrder};
      plan.shadow_on_host = on_host;
      plan.shadow_min_work = 0;
      Trace trace;
      placed_logits[on_host] = runner.run(ids, plan, &trace);
      const ShadowQueue::Stats st = runner.shadow_stats();
      if (on_host) {
        EXPECT_GT(st.jobs, 0);
        EXPECT_EQ(st.jobs, st.on_host + st.on_accelerator);
        int host_slices = 0;
        for (const TraceSlice& s : trace.slices()) host_slices += s.kind == "shadow" && s.lane == 1;
        EXPECT_EQ(host_slices, st.on_host);
        std::printf("%d+%d threads: %d shadow jobs, %d on the host, %d taken back by the accelerator\n",
                    threads, threads, st.jobs, st.on_host, st.on_accelerator);
      } else {
        EXPECT_EQ(st.jobs, 0);
      }
    }
    ASSERT_EQ(placed_logits[0].size(), placed_logits[1].size());
    EXPECT_EQ(0, std::memcmp(placed_logits[0].data(), placed_logits[1].data(),
                             placed_logits[0].size() * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(placed_logits[0].data(), reference.data(), reference.size() * sizeof(float)));
  }

  // `bench` with the float model and then the prepared one compares their prefill in the same run.
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " bench -m " + f + " -m " + p +
                                  " -p 40 -n 2 -r 1 --chunk 16 --topology homo --prompts random -o json",
                              &out),
            0)
      << out;
  const auto j = nlohmann::json::parse(out.substr(out.rfind("\n{") + 1));
  ASSERT_EQ(j["results"].size(), 2u);
  ASSERT_EQ(j["prepared_versus_float"].size(), 1u);
  const auto& v = j["prepared_versus_float"][0];
  EXPECT_EQ(v["float_model"], f);
  EXPECT_EQ(v["model"], p);
  EXPECT_EQ(v["float_prefill_tokens_per_second"], j["results"][0]["prefill_tokens_per_second"]);
  EXPECT_EQ(v["prefill_tokens_per_second"], j["results"][1]["prefill_tokens_per_second"]);
  EXPECT_DOUBLE_EQ(v["ratio"].get<double>(), v["prefill_tokens_per_second"].get<double>() /
                                                 v["float_prefill_tokens_per_second"].get<double>());
}

}  // namespace
}  // namespace llmnpu
