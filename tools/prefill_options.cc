#include "prefill_options.h"

#include <algorithm>

#include "core/error.h"
#include "flags.h"

namespace llmnpu::cli {

void PrefillOptions::add_to(CLI::App& app, bool with_trace) {
  app.add_option("--chunk", chunk, "prefill chunk length in tokens; 0 = whole prompt at once (default 256)")
      ->check(integer_in(0, kMaxTokensFlag));
  app.add_option("--schedule", schedule, "subgraph scheduling: sequential, pipeline, ooo (default ooo)")
      ->check(CLI::IsMember({"sequential", "pipeline", "ooo"}));
  app.add_option("--topology", topology,
                 "processors: homo (all cores run every subgraph in turn), hetero (accelerator-role and "
                 "host-role processors run concurrently), auto (default: models with int8 subgraphs "
                 "measure both at load and keep the faster; float models run homo)")
      ->check(CLI::IsMember({"auto", "homo", "hetero"}));
  app.add_option("--npu-threads", npu_threads,
                 "hetero: threads of the accelerator role (int8 subgraphs); with --topology auto, "
                 "--npu-threads or --cpu-threads selects hetero")
      ->check(thread_count());
  app.add_option("--cpu-threads", cpu_threads, "hetero: threads of the host role (float subgraphs)")
      ->check(thread_count());
  app.add_option("--shadow", shadow,
                 "hetero: where int8 linears' float shadow work runs: host (the host-role processor, beside "
                 "the int8 GEMM; default) or inline (on the accelerator role's threads after the GEMM)")
      ->check(CLI::IsMember({"host", "inline"}));
  if (with_trace)
    app.add_option("--trace", trace_path, "write a Chrome/Perfetto trace of the prefill to FILE.json");
}

}  // namespace llmnpu::cli
