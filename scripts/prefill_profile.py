#!/usr/bin/env python3
"""Where a prefill's CPU time goes: `perf record` of one `llmnpu run`, samples grouped by what they do.

Usage: scripts/prefill_profile.py LLMNPU MODEL PROMPT_FILE [extra run flags...]

Runs `perf record -F 2999` (Debian's linux-perf) on `LLMNPU run -m MODEL -f PROMPT_FILE -n 1 ...`,
reads `perf report` per symbol, drops the samples of loading (weight repacking, page faults of the
mapping, the tokenizer) and prints each group's share of the rest. Groups follow symbol names of this
code base; what matches none is "other" (the largest of those are listed). A symbol belongs to the first
group whose pattern it matches.
"""
import re
import subprocess
import sys
import tempfile

GROUPS = [
    ("load (excluded)",
     r"pack_int8_weights|Int8Linear::Int8Linear|Int8Head::Int8Head|read_value|VocabTokenizer|load_prepared|"
     r"GgufValue|clear_page|folio_zero|memset|memmove|handle_mm_fault|unmap_page|xas_load|next_uptodate|"
     r"native_set_pmd|sincos|_int_malloc|list_del|filemap|iowrite|alloc_|page|lru|pte|mas_walk|mem_cgroup"),
    ("int8 GEMM and its fused epilogue", r"int8_detail|tile<"),
    ("attention (fp32 GEMMs, softmax)",
     r"micro<|gemm_packed|exp_shift_sum|attend_tile|kernels::detail::\(anonymous namespace\)::max$|scale_mul|"
     r"pack_b_nk|attention"),
    ("activation quantization, silu(gate) * up", r"quantize|silu_mul|forward_static"),
    ("shadow outliers", r"shadow_rows"),
    ("norms", r"sum_squares|rms_norm"),
    ("RoPE", r"rope"),
    ("output head", r"head_gemv|Int8Head::forward"),
    ("synchronisation and idle", r"cpu_relax|futex|worker_loop|pvm_irq_enable|run_on_all|parallel_for|sched"),
]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary, model, prompt = sys.argv[1:4]
    with tempfile.NamedTemporaryFile(suffix=".data") as data:
        run = [binary, "run", "-m", model, "-f", prompt, "-n", "1", *sys.argv[4:]]
        out = subprocess.run(["perf", "record", "-F", "2999", "-o", data.name, "--", *run],
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"error: perf record failed: {out.stderr.strip()[-500:]}")
        for line in out.stdout.splitlines() + out.stderr.splitlines():
            if "prompt:" in line:
                print(line[line.index("prompt:"):].strip())
        report = subprocess.run(["perf", "report", "-i", data.name, "--no-children", "--sort", "symbol",
                                 "-F", "sample,symbol", "-g", "none"], capture_output=True, text=True)
    totals, others = {}, []
    for line in report.stdout.splitlines():
        m = re.match(r"\s*(\d+)\s+\[.\]\s+(.*\S)", line)
        if not m:
            continue
        samples, symbol = int(m.group(1)), re.split(r"\s{2,}", m.group(2))[0]  # (perf pads with columns)
        group = next((name for name, pattern in GROUPS if re.search(pattern, symbol)), "other")
        totals[group] = totals.get(group, 0) + samples
        if group == "other":
            others.append((samples, symbol))
    load = totals.pop("load (excluded)", 0)
    total = sum(totals.values())
    if total == 0:
        sys.exit("error: no samples outside loading")
    print(f"{total} samples of prefill work ({load} more while loading, excluded)")
    for name, samples in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {name:44s} {samples:7d}  {100.0 * samples / total:5.1f}%")
    for samples, symbol in sorted(others, reverse=True)[:5]:
        print(f"  other: {samples} {symbol[:100]}")


if __name__ == "__main__":
    main()
