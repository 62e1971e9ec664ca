// The simulator: cost model numbers by hand, exact virtual-time makespans, the paper's ooo-vs-sequential
// effect on the phone profile, profile parsing, and the comparison with the real runner.
#include <gtest/gtest.h>

#include <filesystem>

#include "backend/float_graph.h"
#include "common/compare.h"
#include "core/error.h"
#include "model/synth.h"
#include "sim/cost_model.h"
#include "sim/device_profile.h"
#include "sim/machine_profile.h"
#include "sim/paper_shapes.h"
#include "sim/validate.h"
#include "sim/virtual_prefill.h"
#include "tokenizer/vocab.h"

namespace llmnpu::sim {
namespace {

using test::small_config;

// Rates of 1000 MAC/s make a subgraph's seconds its MACs / 1000.
DeviceProfile slow_profile() {
  DeviceProfile d;
  d.name = "slow";
  d.accelerator = {"acc", 1e-6, 0, std::nullopt, 0.01, 0.1, 2.0, 0.5};
  d.host = {"host", 0, 1e-6, std::nullopt, 0.002, 0.05, 3.0, 1.0};
  d.homogeneous = ProcessorProfile{"all", 1e-6, 1e-6, std::nullopt, 0.001, 0, std::nullopt, std::nullopt};
  return d;
}

std::string repo_path(const std::string& relative) {
  return (std::filesystem::path(__FILE__).parent_path() / ".." / ".." / relative).string();
}

TEST(CostModel, SmallConfigByHand) {
  ModelConfig c = small_config();
  auto quantized = build_chunk_subgraphs(c, true);  // qkv attn omlp head
  auto floating = build_chunk_subgraphs(c, false);
  // Qkv: 4 rows x 8 x (8 + 2 x 4) = 512
  SubgraphWork qkv = subgraph_work(c, quantized[0], 4, 4, 1);
  EXPECT_EQ(qkv.kind, WorkKind::Int8);
  EXPECT_EQ(qkv.macs, 512);
  EXPECT_EQ(subgraph_work(c, floating[0], 4, 4, 1).kind, WorkKind::Float);
  // Attention, rows at positions 4..7 see 5+6+7+8 = 26 keys: 2 heads x 4 x 2 x 26 = 416
  SubgraphWork attn = subgraph_work(c, quantized[1], 4, 4, 1);
  EXPECT_EQ(attn.kind, WorkKind::Attention);
  EXPECT_EQ(attn.macs, 416);
  // First chunk: 1+2+3+4 = 10 keys -> 160
  EXPECT_EQ(subgraph_work(c, quantized[1], 0, 4, 1).macs, 160);
  // OMlp: 4 x (8x8 + 8x32 + 16x8) = 1792
  SubgraphWork omlp = subgraph_work(c, quantized[2], 4, 4, 1);
  EXPECT_EQ(omlp.kind, WorkKind::Int8);
  EXPECT_EQ(omlp.macs, 1792);
  // Head: one row x 8 x 10
  SubgraphWork head = subgraph_work(c, quantized[3], 4, 4, 1);
  EXPECT_EQ(head.kind, WorkKind::Float);
  EXPECT_EQ(head.macs, 80);
  EXPECT_EQ(subgraph_work(c, quantized[3], 4, 4, 3).macs, 240);

  DeviceProfile d = slow_profile();
  EXPECT_DOUBLE_EQ(isolated_seconds(d, d.accelerator, qkv), 0.01 + 0.512);
  EXPECT_THROW(isolated_seconds(d, d.accelerator, attn), Error);  // no float rate on the accelerator
  d.attention_efficiency = 0.5;
  EXPECT_DOUBLE_EQ(isolated_seconds(d, d.host, attn), 0.002 + 0.832);
  d.host.attention_gmacs = 2e-6;
  EXPECT_DOUBLE_EQ(isolated_seconds(d, d.host, attn), 0.002 + 0.208);
}

// Two chunks of 4 rows, one layer, W8A8: qkv 0.512 s, omlp 1.792 s on the accelerator; attention
// 0.160 s and 0.416 s, head 0.080 s on the host; 4 accelerator launches of 0.01, 3 host launches of
// 0.002; syncs: attn0 (0.05), omlp0 (0.1), attn1 (0.05), omlp1 (0.1), head (0.05).
TEST(VirtualPrefill, SequentialMakespanIsTheSumOfEveryRun) {
  ModelConfig c = small_config();
  SimOptions o;
  o.shadow_entries_per_row = 0;  // (shadow work has its own test)
  o.prompt_tokens = 8;
  o.chunk_len = 4;
  o.policy = SchedulePolicy::Sequential;
  Trace trace;
  SimResult r = simulate_prefill(c, build_chunk_subgraphs(c, true), slow_profile(), o, &trace);
  const double acc = 2 * 0.512 + 2 * 1.792 + 4 * 0.01 + 2 * 0.1;
  const double host = 0.160 + 0.416 + 0.080 + 3 * 0.002 + 3 * 0.05;
  EXPECT_NEAR(r.seconds, acc + host, 1e-12);
  EXPECT_EQ(r.chunks, 2);
  EXPECT_EQ(r.tasks, 7);
  ASSERT_EQ(r.lanes.size(), 2u);
  EXPECT_NEAR(r.lanes[0].busy_s, acc, 1e-12);
  EXPECT_NEAR(r.lanes[1].busy_s, host, 1e-12);
  EXPECT_NEAR(r.lanes[0].bubble_share, host / (acc + host), 1e-12);
  ASSERT_TRUE(r.has_energy);
  EXPECT_NEAR(r.energy_j, 2.0 * acc + 0.5 * host + 3.0 * host + 1.0 * acc, 1e-9);
  EXPECT_NEAR(r.energy_per_token_j, r.energy_j / 8, 1e-12);
  EXPECT_NEAR(r.tokens_per_second, 8 / r.seconds, 1e-9);
  // The trace holds every run, one lane per processor, back to back.
  ASSERT_EQ(trace.slices().size(), 7u);
  EXPECT_EQ(trace.lanes(), (std::vector<std::string>{"acc", "host"}));
  EXPECT_EQ(trace.slices()[0].name, "L0.qkv");
  EXPECT_NEAR(trace.span(), r.seconds, 1e-12);
}

TEST(VirtualPrefill, ShadowWorkRunsOnTheHostBesideTheAccelerator) {
  ModelConfig c = small_config();
  SimOptions o;
  o.prompt_tokens = 4;
  o.chunk_len = 4;
  o.policy = SchedulePolicy::Sequential;
  o.shadow_entries_per_row = 0;
  const auto subs = build_chunk_subgraphs(c, true);
  EXPECT_EQ(subs[0].shadow_ops(), 1);  // qkv
  EXPECT_EQ(subs[2].shadow_ops(), 3);  // o, gate_up, down
  const SimResult none = simulate_prefill(c, subs, slow_profile(), o);
  // One entry per row and linear: qkv 4 x 16, omlp 4 x (8 + 32 + 8) = 256 float MACs on the host
  // (1000 MAC/s): shorter than the int8 work beside it, so the makespan does not change.
  o.shadow_entries_per_row = 1;
  Trace trace;
  const SimResult with = simulate_prefill(c, subs, slow_profile(), o, &trace);
  EXPECT_NEAR(with.seconds, none.seconds, 1e-12);
  EXPECT_NEAR(with.lanes[1].busy_s - none.lanes[1].busy_s, 0.256, 1e-12);
  int shadow_slices = 0;
  for (const TraceSlice& s : trace.slices()) shadow_slices += s.kind == "shadow" && s.lane == 1;
  EXPECT_EQ(shadow_slices, 2);
  // Shadow work longer than the accelerator's: the accelerator waits for the host to finish it.
  o.shadow_entries_per_row = 100;
  const SimResult heavy = simulate_prefill(c, subs, slow_profile(), o);
  // (each subgraph: launch 0.01, and the omlp its 0.1 sync after attention on the host)
  EXPECT_NEAR(heavy.seconds - none.seconds, 100 * 0.256 - (0.512 + 0.01) - (1.792 + 0.01 + 0.1), 1e-9);
  // Homogeneous: the one processor does it inline, at its float rate.
  o.homogeneous = true;
  o.shadow_entries_per_row = 0;
  const double homo = simulate_prefill(c, subs, slow_profile(), o).seconds;
  o.shadow_entries_per_row = 1;
  EXPECT_NEAR(simulate_prefill(c, subs, slow_profile(), o).seconds - homo, 0.256, 1e-12);
}

TEST(VirtualPrefill, HomogeneousRunsEverythingOnOneProcessorWithoutSync) {
  ModelConfig c = small_config();
  SimOptions o;
  o.shadow_entries_per_row = 0;  // (shadow work has its own test)
  o.prompt_tokens = 8;
  o.chunk_len = 4;
  o.homogeneous = true;
  for (auto policy : {SchedulePolicy::Sequential, SchedulePolicy::Pipeline, SchedulePolicy::OutOfOrder}) {
    o.policy = policy;
    SimResult r = simulate_prefill(c, build_chunk_subgraphs(c, true), slow_profile(), o);
    EXPECT_NEAR(r.seconds, 2 * 0.512 + 2 * 1.792 + 0.160 + 0.416 + 0.080 + 7 * 0.001, 1e-12);
    ASSERT_EQ(r.lanes.size(), 1u);
    EXPECT_NEAR(r.lanes[0].bubble_share, 0, 1e-12);
    EXPECT_FALSE(r.has_energy);  // the homogeneous processor has no power figures
  }
  DeviceProfile no_homo = slow_profile();
  no_homo.homogeneous.reset();
  EXPECT_THROW(simulate_prefill(c, build_chunk_subgraphs(c, true), no_homo, o), Error);
}

TEST(VirtualPrefill, CapsTheLastChunkAtTheContext) {
  ModelConfig c = small_config();
  SimOptions o;
  o.shadow_entries_per_row = 0;  // (shadow work has its own test)
  o.prompt_tokens = 6;
  o.chunk_len = 4;
  o.homogeneous = true;
  o.policy = SchedulePolicy::Sequential;
  o.context = 6;  // chunk 1 computes 2 rows: qkv 256, omlp 896, attention 2x4x2x(5+6) = 176
  SimResult r = simulate_prefill(c, build_chunk_subgraphs(c, true), slow_profile(), o);
  EXPECT_NEAR(r.seconds, 0.512 + 0.256 + 1.792 + 0.896 + 0.160 + 0.176 + 0.080 + 7 * 0.001, 1e-12);
}

TEST(VirtualPrefill, PaddedRowsCostOnlyWhereTheDeviceComputesThem) {
  ModelConfig c = small_config();
  SimOptions o;
  o.shadow_entries_per_row = 0;  // (shadow work has its own test)
  o.prompt_tokens = 6;
  o.chunk_len = 4;
  o.homogeneous = true;
  o.policy = SchedulePolicy::Sequential;
  DeviceProfile npu = slow_profile(), cpu = slow_profile();
  cpu.computes_padding = false;  // as CpuBackend: the last chunk's 2 real rows only
  const SimResult padded = simulate_prefill(c, build_chunk_subgraphs(c, true), npu, o);
  const SimResult real = simulate_prefill(c, build_chunk_subgraphs(c, true), cpu, o);
  // The same as the context cap to 6 rows above.
  EXPECT_NEAR(real.seconds, 0.512 + 0.256 + 1.792 + 0.896 + 0.160 + 0.176 + 0.080 + 7 * 0.001, 1e-12);
  EXPECT_GT(padded.seconds, real.seconds);
  o.prompt_tokens = 8;  // whole chunks: nothing padded, no difference
  EXPECT_EQ(simulate_prefill(c, build_chunk_subgraphs(c, true), npu, o).seconds,
            simulate_prefill(c, build_chunk_subgraphs(c, true), cpu, o).seconds);
}

TEST(VirtualPrefill, OooCutsAcceleratorBubblesOnThePhone) {
  const ModelConfig& c = find_synth_shape("qwen2.5-0.5b").config;
  auto subs = build_chunk_subgraphs(c, true);
  SimOptions o;
  o.prompt_tokens = 1024;
  o.chunk_len = 256;
  o.policy = SchedulePolicy::Sequential;
  SimResult seq = simulate_prefill(c, subs, phone_profile(), o);
  o.policy = SchedulePolicy::OutOfOrder;
  SimResult ooo = simulate_prefill(c, subs, phone_profile(), o);
  EXPECT_LT(ooo.lanes[0].bubble_share, seq.lanes[0].bubble_share);
  EXPECT_GT(ooo.tokens_per_second, seq.tokens_per_second);
  EXPECT_LE(ooo.seconds, seq.seconds);
  EXPECT_LT(ooo.energy_per_token_j, seq.energy_per_token_j);  // idle power is paid for less time
  // The paper's effect is large, not marginal: bubbles fall by more than half here.
  EXPECT_LT(ooo.lanes[0].bubble_share, 0.5 * seq.lanes[0].bubble_share);
}

TEST(VirtualPrefill, OooNeverSlowerThanSequentialOnThePhone) {
  for (const auto& shape : synth_shapes()) {
    auto subs = build_chunk_subgraphs(shape.config, true);
    for (int prompt : {256, 1024, 2048}) {
      SimOptions o;
      o.prompt_tokens = prompt;
      o.chunk_len = 256;
      o.policy = SchedulePolicy::Sequential;
      double seq = simulate_prefill(shape.config, subs, phone_profile(), o).seconds;
      o.policy = SchedulePolicy::OutOfOrder;
      double ooo = simulate_prefill(shape.config, subs, phone_profile(), o).seconds;
      EXPECT_LE(ooo, seq) << shape.name << " prompt " << prompt;
    }
  }
}

// The calibration of docs/simulator.md: Qwen1.5-1.8B, prompt 1024, chunk 256, ooo, over 1000 tokens/s.
TEST(VirtualPrefill, PhoneProfileReproducesThePapersPrefillRate) {
  ModelConfig c = find_sim_shape("qwen1.5-1.8b");
  EXPECT_THROW(find_sim_shape("gpt-5"), Error);
  SimOptions o;
  o.prompt_tokens = 1024;
  o.chunk_len = 256;
  SimResult r = simulate_prefill(c, build_chunk_subgraphs(c, true), phone_profile(), o);
  EXPECT_GT(r.tokens_per_second, 1000);
  EXPECT_LT(r.tokens_per_second, 1150);
}

// The paper's five models (their real shapes, each with its own layer program: Gemma's MQA and head_dim
// 256, Phi-2's parallel block, Mistral's window) simulate on the phone, ooo never slower than sequential.
TEST(VirtualPrefill, ThePapersFiveModelsSimulate) {
  for (const char* name : {"qwen1.5-1.8b", "gemma-2b", "phi-2", "llama-2-7b", "mistral-7b"}) {
    const ModelConfig c = find_sim_shape(name);
    const auto subs = build_chunk_subgraphs(c, true);
    SimOptions o;
    o.prompt_tokens = 1024;
    o.chunk_len = 256;
    o.policy = SchedulePolicy::Sequential;
    const SimResult seq = simulate_prefill(c, subs, phone_profile(), o);
    o.policy = SchedulePolicy::OutOfOrder;
    const SimResult ooo = simulate_prefill(c, subs, phone_profile(), o);
    EXPECT_GT(ooo.tokens_per_second, 0) << name;
    EXPECT_LE(ooo.seconds, seq.seconds) << name;
    std::printf("%-13s phone, p=1024 chunk 256: ooo %.0f tok/s, sequential %.0f tok/s\n", name,
                ooo.tokens_per_second, seq.tokens_per_second);
  }
  // Phi-2's MLP reads the same normed input as attention: it lands in the first static subgraph.
  const auto phi = build_chunk_subgraphs(find_sim_shape("phi-2"), true);
  int first_linears = 0;
  for (const Op& op : phi[0].ops) first_linears += op.kind == OpKind::Linear;
  EXPECT_EQ(first_linears, 3);
}

TEST(DeviceProfile, JsonRoundTripAndShippedFiles) {
  DeviceProfile phone = phone_profile();
  EXPECT_EQ(parse_device_profile(device_profile_to_json(phone), "phone"), phone);
  DeviceProfile slow = slow_profile();
  EXPECT_EQ(parse_device_profile(device_profile_to_json(slow), "slow"), slow);
  EXPECT_EQ(load_device_profile(repo_path("sim/profiles/phone-snapdragon-8gen3.json")), phone);
  DeviceProfile measured = load_device_profile(repo_path("sim/profiles/this-machine-xeon-2core.json"));
  EXPECT_GT(measured.accelerator.int8_gmacs, 0);
  EXPECT_TRUE(measured.homogeneous.has_value());
  EXPECT_FALSE(measured.computes_padding);
  EXPECT_TRUE(phone.computes_padding);
}

TEST(DeviceProfile, BadProfilesThrowErrors) {
  auto parse = [](const std::string& text) { return parse_device_profile(text, "test"); };
  const std::string acc = R"("accelerator": {"int8_gmacs": 10, "float_gmacs": 0})";
  const std::string host = R"("host": {"int8_gmacs": 0, "float_gmacs": 5})";
  EXPECT_NO_THROW(parse("{" + acc + "," + host + "}"));
  EXPECT_THROW(parse("{" + acc + "," + host), Error);                       // truncated JSON
  EXPECT_THROW(parse("[1, 2]"), Error);                                     // not an object
  EXPECT_THROW(parse("{" + acc + "}"), Error);                              // no host
  EXPECT_THROW(parse("{" + acc + "," + host + R"(, "speed": 3})"), Error);  // unknown field
  EXPECT_THROW(parse(R"({"accelerator": {"int8_gmacs": "fast", "float_gmacs": 0},)" + host + "}"), Error);
  EXPECT_THROW(parse(R"({"accelerator": {"int8_gmacs": -1, "float_gmacs": 1},)" + host + "}"), Error);
  EXPECT_THROW(parse(R"({"accelerator": {"int8_gmacs": 0, "float_gmacs": 0},)" + host + "}"), Error);
  EXPECT_THROW(parse(R"({"accelerator": {"float_gmacs": 1},)" + host + "}"), Error);  // missing rate
  EXPECT_THROW(parse(R"({"accelerator": {"int8_gmacs": 1, "float_gmacs": 1, "busy_w": 2},)" + host + "}"),
               Error);  // busy power without idle power
  EXPECT_THROW(parse("{" + acc + "," + host + R"(, "notes": [1]})"), Error);
  EXPECT_THROW(parse("{" + acc + "," + host + R"(, "attention_efficiency": 0})"), Error);
  EXPECT_THROW(load_device_profile("/nonexistent/profile.json"), Error);
}

TEST(MachineProfile, MeasuresPositiveRates) {
  MachineProbeOptions o;
  o.m = 16;
  o.k = 64;
  o.n = 64;
  o.attention_rows = 16;
  o.attention_q_start = 16;
  o.n_heads = 2;
  o.n_kv_heads = 1;
  o.head_dim = 32;
  o.min_seconds = 0.005;
  DeviceProfile d = profile_this_machine(o);
  for (const ProcessorProfile* p : {&d.accelerator, &d.host, &*d.homogeneous}) {
    EXPECT_GT(p->int8_gmacs, 0);
    EXPECT_GT(p->float_gmacs, 0);
    EXPECT_GT(d.attention_gmacs(*p), 0);
    EXPECT_GT(p->launch_s, 0);
  }
  EXPECT_EQ(parse_device_profile(device_profile_to_json(d), "measured"), d);
}

TEST(Validate, RunsTheRealRunnerForEveryCase) {
  SynthOptions so;
  so.shape = "tiny";
  auto model = synthesize_model(so, builtin_byte_vocab());
  ModelGraph graph = build_float_graph(*model);
  ValidationOptions o;
  o.prompt_tokens = 40;
  o.chunk_len = 16;
  auto rows = validate_against_runner(*model, graph, slow_profile(), o);
  ASSERT_EQ(rows.size(), 6u);
  for (const auto& r : rows) {
    EXPECT_GT(r.measured_s, 0);
    EXPECT_GT(r.predicted.seconds, 0);
    EXPECT_EQ(r.measured_lanes.size(), r.homogeneous ? 1u : 2u);
    EXPECT_EQ(r.predicted.chunks, 3);
  }
}

TEST(Validate, CalibrationScalesRatesByPredictedOverMeasured) {
  ValidationRow row;
  row.homogeneous = false;
  row.ops = {{"qkv", 1.0, 2.0}, {"attn", 3.0, 4.0}, {"omlp", 3.0, 6.0}, {"head", 1.0, 100.0}};
  DeviceProfile d = slow_profile();
  d.host.attention_gmacs = 8.0;
  DeviceProfile w8a8 = calibrate_profile(d, row, true);
  EXPECT_DOUBLE_EQ(w8a8.accelerator.int8_gmacs, 1e-6 * 4.0 / 8.0);  // linears: 4 s predicted, 8 s measured
  EXPECT_DOUBLE_EQ(*w8a8.host.attention_gmacs, 8.0 * 3.0 / 4.0);
  EXPECT_EQ(w8a8.host.float_gmacs, d.host.float_gmacs);  // the head does not count
  DeviceProfile fp = calibrate_profile(d, row, false);
  EXPECT_DOUBLE_EQ(fp.host.float_gmacs, 1e-6 * 0.5);
  EXPECT_EQ(fp.accelerator, d.accelerator);
  row.homogeneous = true;
  DeviceProfile homo = calibrate_profile(d, row, true);
  EXPECT_DOUBLE_EQ(homo.homogeneous->int8_gmacs, 1e-6 * 0.5);
  EXPECT_DOUBLE_EQ(*homo.homogeneous->attention_gmacs, 1e-6 * 0.75);  // float rate x efficiency 1, scaled
  row.ops = {{"qkv", 1.0, 0.0}};
  EXPECT_THROW(calibrate_profile(d, row, true), Error);
}

}  // namespace
}  // namespace llmnpu::sim
