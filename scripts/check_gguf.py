#!/usr/bin/env python3
"""Checks that GGUF model files follow llama.cpp's conventions, so that llama.cpp would load them.

Usage: python3 scripts/check_gguf.py FILE.gguf [FILE2.gguf ...]
Prints "ok: FILE (ARCH, N tensors)" or one "FILE: problem" line per problem; exits 1 on any problem.

An independent check: written from llama.cpp's published source (ggml/src/gguf.cpp for the container,
src/llama-arch.cpp for tensor and key names, src/llama-model-loader.cpp for key types, src/llama-model.cpp
load_hparams/load_tensors for the hyperparameters and tensors of each architecture, src/llama-vocab.cpp
for the tokenizer), not from llmnpu's code. Python standard library only.
Architectures: llama, qwen2, qwen3, gemma, gemma2, phi2, phi3. Checks, in order:
  container   magic, version 2/3, every KV parses, no duplicate keys, general.alignment a u32 power of 2,
              tensor infos (name < 64 bytes, unique, <= 4 dims), known ggml type, row a multiple of the block,
              data offsets aligned, contiguous (what gguf.cpp demands) and inside the file
  hparams     the keys load_hparams reads, with the exact GGUF types llama.cpp's get_key demands (u32, f32)
              and sane values; rope.scaling.type one of llama.cpp's names
  tensors     every tensor load_tensors requires, with its ggml dims; optional ones only in an accepted
              form; no tensor llama.cpp would not create ("wrong number of tensors")
  tokenizer   tokenizer.ggml.model known (llama.cpp requires the key), tokens/scores/token_type/merges
              typed and sized as llama_vocab::impl::load expects, pre-tokenizer name known (BPE)
Where llama.cpp versions differ (newer ones also accept a fused attn_qkv for llama/qwen2/phi3 layouts),
the layout every version accepts (the one llama.cpp's own converter writes) is required.
Files with llmnpu.prepared.version are llmnpu-only: only the container is checked.
"""
import struct
import sys

# GGUF metadata value types (gguf.h)
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR_FMT = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "b",
              U64: "Q", I64: "q", F64: "d"}
TYPE_NAME = {U8: "u8", I8: "i8", U16: "u16", I16: "i16", U32: "u32", I32: "i32", F32: "f32", BOOL: "bool",
             STR: "str", ARR: "arr", U64: "u64", I64: "i64", F64: "f64"}
# ggml tensor types this checker knows: id -> (name, elements per block, bytes per block)
GGML_TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 8: ("Q8_0", 32, 34), 24: ("I8", 1, 1),
              26: ("I32", 1, 4), 30: ("BF16", 1, 2)}
GGML_MAX_NAME = 64
ARCHS = ("llama", "qwen2", "qwen3", "gemma", "gemma2", "phi2", "phi3")
# llama-model.cpp LLAMA_ROPE_SCALING_TYPES ("llama3" is not one: load_hparams asserts on it)
ROPE_SCALING_TYPES = ("none", "linear", "yarn", "longrope")
# llama-vocab.cpp llama_vocab::impl::load: tokenizer models, and the pre-tokenizers of BPE ("gpt2") vocabs
TOKENIZER_MODELS = ("no_vocab", "none", "llama", "bert", "gpt2", "t5", "rwkv", "plamo2", "gemma4",
                    "hybriddna", "whitespace")
PRE_TOKENIZERS = set("""default minicpm5 llama3 llama-v3 llama-bpe falcon3 falcon-h1 pixtral midm-2.0 lfm2
 jina-v5-nano deepseek-llm deepseek-coder deepseek-v3 spark2_5 youtu falcon mpt starcoder gpt-2 phi-2 jina-es
 jina-de gigachat jina-v2-es jina-v2-de a.x-4.0 mellum modern-bert jais-2 gemma4 granite-embed-multi-311m
 sarvam-moe jina-v1-en jina-v2-code roberta-bpe whitespace refact command-r qwen2 deepseek-r1-qwen kormo
 f2llmv2 qwen35 stablelm2 olmo dbrx smaug-bpe poro-chat glm4 chatglm-bpe viking jais tekken smollm codeshell
 bloom gpt3-finnish exaone exaone4 exaone-moe chameleon minerva-7b megrez gpt-4o llama4 kanana2 talkie
 granite-embed-multi-97m tiny_aya cohere2moe superbpe trillion granite-docling bailingmoe bailingmoe2
 llada-moe seed-coder hunyuan hunyuan-dense hy_v4 joyai-llm kimi-k2 ufakzeka grok-2 afmoe laguna minimax-m2
 solar-open mellum2""".split())
# default special token ids per tokenizer model (llama_vocab::impl::load), None = unset
DEFAULT_BOS = {"llama": 1, "bert": 101, "gpt2": 11, "plamo2": 1}
DEFAULT_EOS = {"llama": 2, "gpt2": 11, "t5": 1, "plamo2": 2}
# per-architecture KV suffixes and the type llama.cpp reads them with; "u32*" = u32 or a per-layer array
ARCH_KEYS = {"context_length": "u32", "embedding_length": "u32", "block_count": "u32",
             "feed_forward_length": "u32*", "attention.head_count": "u32*", "attention.head_count_kv": "u32*",
             "attention.key_length": "u32", "attention.value_length": "u32", "rope.dimension_count": "u32",
             "attention.sliding_window": "u32", "rope.scaling.original_context_length": "u32",
             "vocab_size": "u32", "expert_count": "u32", "expert_used_count": "u32",
             "attention.layer_norm_epsilon": "f32", "attention.layer_norm_rms_epsilon": "f32",
             "rope.freq_base": "f32", "rope.scaling.factor": "f32", "rope.scale_linear": "f32",
             "rope.scaling.attn_factor": "f32", "attn_logit_softcapping": "f32",
             "final_logit_softcapping": "f32", "rope.scaling.type": "str", "rope.scaling.finetuned": "bool"}


class Reader:
    def __init__(self, f):
        self.f = f

    def take(self, fmt):
        size = struct.calcsize("<" + fmt)
        data = self.f.read(size)
        if len(data) != size:
            raise ValueError("file ends inside the header")
        return struct.unpack("<" + fmt, data)

    def string(self):
        (n,) = self.take("Q")
        data = self.f.read(n)
        if len(data) != n:
            raise ValueError("file ends inside a string")
        return data.decode("utf-8", errors="replace")

    def value(self, vtype):
        """Returns (value, element type); arrays come back as lists."""
        if vtype == STR:
            return self.string(), None
        if vtype in SCALAR_FMT:
            return self.take(SCALAR_FMT[vtype])[0], None
        if vtype == ARR:
            etype, n = self.take("IQ")
            if etype == ARR or (etype != STR and etype not in SCALAR_FMT):
                raise ValueError("array of invalid GGUF type %d" % etype)
            if etype == STR:
                return [self.string() for _ in range(n)], etype
            return list(self.take(SCALAR_FMT[etype] * n)) if n else [], etype
        raise ValueError("invalid GGUF type %d" % vtype)


def read_gguf(path, problems):
    """Parses the header. Returns (kv {key: (type, value, elem type)}, tensors [(name, dims, type, offset)],
    data start, file size), or None when the container cannot be parsed."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        file_size = f.tell()
        f.seek(0)
        r = Reader(f)
        try:
            if f.read(4) != b"GGUF":
                problems.append("bad magic (not 'GGUF')")
                return None
            version, n_tensors, n_kv = r.take("IQQ")
            if version not in (2, 3):
                problems.append("GGUF version %d (llama.cpp reads 2 and 3)" % version)
                return None
            kv = {}
            for _ in range(n_kv):
                key = r.string()
                (vtype,) = r.take("I")
                value, etype = r.value(vtype)
                if key in kv:
                    problems.append("duplicate key '%s'" % key)
                kv[key] = (vtype, value, etype)
            tensors = []
            for _ in range(n_tensors):
                name = r.string()
                (n_dims,) = r.take("I")
                if n_dims > 4:
                    raise ValueError("tensor '%s' has %d dims (ggml has at most 4)" % (name, n_dims))
                dims = list(r.take("q" * n_dims)) if n_dims else []
                ttype, offset = r.take("IQ")
                tensors.append((name, dims, ttype, offset))
            header_end = f.tell()
        except ValueError as e:
            problems.append("cannot parse: %s" % e)
            return None
    alignment = 32
    if "general.alignment" in kv:
        vtype, value, _ = kv["general.alignment"]
        if vtype != U32 or value <= 0 or value & (value - 1):
            problems.append("general.alignment must be a u32 power of 2, got %s %r" % (TYPE_NAME[vtype], value))
        else:
            alignment = value
    data_start = -(-header_end // alignment) * alignment
    expected_offset, seen = 0, set()
    for name, dims, ttype, offset in tensors:
        if len(name.encode()) >= GGML_MAX_NAME:
            problems.append("tensor name '%s' is %d bytes (ggml allows < %d)" % (name, len(name.encode()),
                                                                                 GGML_MAX_NAME))
        if name in seen:
            problems.append("duplicate tensor '%s'" % name)
        seen.add(name)
        if any(d < 0 for d in dims):
            problems.append("tensor '%s' has a negative dim %s" % (name, dims))
            continue
        if ttype not in GGML_TYPES:
            problems.append("tensor '%s' has unknown ggml type %d" % (name, ttype))
            return kv, tensors, data_start, file_size  # sizes of later tensors are unknown
        tname, block, block_bytes = GGML_TYPES[ttype]
        n_elements = 1
        for d in dims:
            n_elements *= d
        if dims and dims[0] % block:
            problems.append("tensor '%s' (%s) rows of %d are not a multiple of the block size %d"
                            % (name, tname, dims[0], block))
        nbytes = n_elements // block * block_bytes
        if offset % alignment:
            problems.append("tensor '%s' offset %d is not aligned to %d" % (name, offset, alignment))
        if offset != expected_offset:
            problems.append("tensor '%s' at offset %d, gguf.cpp expects %d (data laid out in order, padded)"
                            % (name, offset, expected_offset))
        if data_start + offset + nbytes > file_size:
            problems.append("tensor '%s' data (%d bytes at %d) runs past the end of the file (%d bytes)"
                            % (name, nbytes, data_start + offset, file_size))
        expected_offset = offset + -(-nbytes // alignment) * alignment
    return kv, tensors, data_start, file_size


def check_key_types(kv, arch, problems):
    """llama_model_loader::get_key throws unless the GGUF type is exactly the C++ type it reads into."""
    for suffix, want in ARCH_KEYS.items():
        entry = kv.get(arch + "." + suffix)
        if entry is None:
            continue
        vtype, value, etype = entry
        ok = {"u32": vtype == U32, "f32": vtype == F32, "str": vtype == STR, "bool": vtype == BOOL,
              "u32*": vtype == U32 or (vtype == ARR and etype in (U32, I32))}[want]
        if not ok:
            got = TYPE_NAME[vtype] + ("[%s]" % TYPE_NAME[etype] if vtype == ARR else "")
            problems.append("%s.%s has type %s, llama.cpp reads it as %s" % (arch, suffix, got, want.rstrip("*")))
    for key, (vtype, _, _) in kv.items():
        if key.startswith("tokenizer.ggml.") and key.endswith("_token_id") and vtype != U32:
            problems.append("%s has type %s, llama.cpp reads it as u32" % (key, TYPE_NAME[vtype]))
        if key in ("tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token", "tokenizer.ggml.add_sep_token",
                   "tokenizer.ggml.add_space_prefix", "tokenizer.ggml.remove_extra_whitespaces") and vtype != BOOL:
            problems.append("%s has type %s, llama.cpp reads it as bool" % (key, TYPE_NAME[vtype]))


def layer_value(kv, key, n_layer, problems):
    """get_key_or_arr: a scalar, or an array of n_layer values (this checker needs them all equal)."""
    vtype, value, _ = kv[key]
    if vtype != ARR:
        return value
    if len(value) != n_layer:
        problems.append("%s has %d values for %d layers" % (key, len(value), n_layer))
    elif len(set(value)) > 1:
        problems.append("%s varies per layer: not covered by this checker" % key)
    return value[0] if value else 0


def check_hparams(kv, arch, problems):
    """The hyperparameters the tensor shapes are derived from; None when they cannot be derived."""
    def num(suffix, default=None):
        entry = kv.get(arch + "." + suffix)
        if entry is None:
            return default
        if suffix in ("feed_forward_length", "attention.head_count", "attention.head_count_kv"):
            return layer_value(kv, arch + "." + suffix, hp.get("n_layer", 0), problems)
        return entry[1]

    hp = {}
    eps = "attention.layer_norm_epsilon" if arch == "phi2" else "attention.layer_norm_rms_epsilon"
    required = ("context_length", "embedding_length", "block_count", "feed_forward_length",
                "attention.head_count", eps)
    missing = [s for s in required if arch + "." + s not in kv]
    for s in missing:
        problems.append("missing key %s.%s (llama.cpp load_hparams needs it)" % (arch, s))
    if missing or any(p.startswith(arch + ".") and "has type" in p for p in problems):
        return None
    hp["n_layer"] = num("block_count")
    E, H, F = num("embedding_length"), num("attention.head_count"), num("feed_forward_length")
    Hkv = num("attention.head_count_kv", H)
    if num(eps) <= 0:
        problems.append("%s.%s must be > 0" % (arch, eps))
    if min(E, H, F, hp["n_layer"]) <= 0 or Hkv <= 0 or H % Hkv:
        problems.append("bad sizes: embedding %d, heads %d/%d (head_count_kv must divide head_count), ff %d, "
                        "blocks %d" % (E, H, Hkv, F, hp["n_layer"]))
        return None
    hk = num("attention.key_length", E // H)
    hv = num("attention.value_length", E // H)
    n_rot = num("rope.dimension_count", hk)
    if hk != hv:
        problems.append("key_length %d != value_length %d (the %s graph needs equal head sizes)" % (hk, hv, arch))
    if n_rot % 2 or n_rot > hk or n_rot <= 0:
        problems.append("rope.dimension_count %d must be even, > 0 and <= the head size %d" % (n_rot, hk))
    if arch in ("llama", "qwen2", "qwen3") and n_rot != hk:
        problems.append("rope.dimension_count %d != head size %d (llama.cpp: 'invalid n_rot' / graph assert for %s)"
                        % (n_rot, hk, arch))
    if num("rope.freq_base", 10000.0) <= 0:
        problems.append("%s.rope.freq_base must be > 0" % arch)
    if arch + ".attention.sliding_window" in kv and num("attention.sliding_window") <= 0:
        problems.append("%s.attention.sliding_window must be > 0" % arch)
    scaling = num("rope.scaling.type", "linear")
    if scaling not in ROPE_SCALING_TYPES:
        problems.append("%s.rope.scaling.type '%s' is not one of llama.cpp's %s (load_hparams asserts)"
                        % (arch, scaling, "/".join(ROPE_SCALING_TYPES)))
    if num("expert_count", 0) > 0:
        problems.append("%s.expert_count > 0: MoE files are not covered by this checker" % arch)
    hp.update(E=E, H=H, Hkv=Hkv, F=F, hk=hk, hv=hv, n_rot=n_rot, scaling=scaling)
    return hp


def expected_tensors(arch, hp, n_vocab, present, kv):
    """(required, optional): {name: ggml dims}, as load_tensors creates them for this file."""
    E, H, Hkv, F, hk, hv = hp["E"], hp["H"], hp["Hkv"], hp["F"], hp["hk"], hp["hv"]
    gqa_k, gqa_v = hk * Hkv, hv * Hkv
    req = {"token_embd.weight": [E, n_vocab], "output_norm.weight": [E]}
    opt = {}
    if arch not in ("gemma", "gemma2", "phi2"):  # gemma always ties the output to token_embd, phi2 never
        opt["output.weight"] = [E, n_vocab]
    half_rot = [hp["n_rot"] // 2]
    if (arch == "llama" and hp["scaling"] == "longrope") or arch == "phi3":
        opt.update({"rope_factors_long.weight": half_rot, "rope_factors_short.weight": half_rot})
    elif arch == "llama":
        opt["rope_freqs.weight"] = half_rot
    if arch == "qwen2":
        opt["output.bias"] = [n_vocab]
    if arch == "qwen3":
        labels = kv.get(arch + ".classifier.output_labels")
        opt["cls.output.weight"] = [E, len(labels[1]) if labels else 1]
    if arch == "phi2":
        req.update({"output_norm.bias": [E], "output.weight": [E, n_vocab], "output.bias": [n_vocab]})
    for i in range(hp["n_layer"]):
        b = "blk.%d." % i
        r = {"attn_norm.weight": [E], "ffn_down.weight": [F, E]}
        o = {}
        if arch in ("llama", "qwen3", "gemma", "gemma2"):
            r.update({"attn_q.weight": [E, hk * H], "attn_k.weight": [E, gqa_k], "attn_v.weight": [E, gqa_v],
                      "attn_output.weight": [hk * H, E]})
        if arch != "phi2":
            r["ffn_norm.weight"] = [E]
        if arch in ("llama", "qwen2", "qwen3", "gemma", "gemma2"):
            r.update({"ffn_gate.weight": [E, F], "ffn_up.weight": [E, F]})
        if arch == "llama":
            o.update({"attn_q.bias": [E], "attn_k.bias": [gqa_v], "attn_v.bias": [gqa_v], "attn_output.bias": [E],
                      "ffn_gate.bias": [F], "ffn_down.bias": [E], "ffn_up.bias": [F]})
        if arch == "qwen2":
            r.update({"attn_q.weight": [E, E], "attn_k.weight": [E, gqa_v], "attn_v.weight": [E, gqa_v],
                      "attn_output.weight": [E, E], "attn_q.bias": [E], "attn_k.bias": [gqa_v],
                      "attn_v.bias": [gqa_v]})
        if arch == "qwen3":
            r.update({"attn_k.weight": [E, gqa_v], "attn_v.weight": [E, gqa_v],
                      "attn_q_norm.weight": [hk], "attn_k_norm.weight": [hk]})
        if arch == "gemma2":
            r.update({"post_attention_norm.weight": [E], "post_ffw_norm.weight": [E]})
        if arch == "phi2":
            r.update({"attn_norm.bias": [E], "attn_output.weight": [E, E], "attn_output.bias": [E],
                      "ffn_down.bias": [E], "ffn_up.weight": [E, F], "ffn_up.bias": [F]})
            if b + "attn_qkv.weight" in present:  # fused qkv (bias optional) or separate q/k/v with biases
                r["attn_qkv.weight"] = [E, E + 2 * gqa_v]
                o["attn_qkv.bias"] = [E + 2 * gqa_v]
            else:
                r.update({"attn_q.weight": [E, E], "attn_q.bias": [E], "attn_k.weight": [E, gqa_v],
                          "attn_k.bias": [gqa_v], "attn_v.weight": [E, gqa_v], "attn_v.bias": [gqa_v]})
        if arch == "phi3":
            r.update({"attn_qkv.weight": [E, E + 2 * gqa_v], "attn_output.weight": [E, E],
                      "ffn_up.weight": [E, 2 * F]})
        req.update({b + k: v for k, v in r.items()})
        opt.update({b + k: v for k, v in o.items()})
    return req, opt


def check_tokenizer(kv, arch, problems):
    """Returns the vocab size llama.cpp will use (len of tokenizer.ggml.tokens), or None."""
    model_entry = kv.get("tokenizer.ggml.model")
    if model_entry is None or model_entry[0] != STR:
        problems.append("tokenizer.ggml.model missing or not a string (llama_vocab::impl::load requires it)")
        return None
    model = model_entry[1]
    if model not in TOKENIZER_MODELS:
        problems.append("tokenizer.ggml.model '%s' unknown to llama.cpp (%s)" % (model, ", ".join(TOKENIZER_MODELS)))
        return None
    if model in ("no_vocab", "none"):
        entry = kv.get(arch + ".vocab_size")  # no tokens: llama.cpp makes vocab_size dummy tokens
        return entry[1] if entry and entry[0] == U32 else 0

    def array(key, elem_types, required):
        entry = kv.get(key)
        if entry is None:
            if required:
                problems.append("missing %s (llama.cpp requires it for '%s')" % (key, model))
            return None
        if entry[0] != ARR or entry[2] not in elem_types:
            problems.append("%s must be an array of %s" % (key, "/".join(TYPE_NAME[t] for t in elem_types)))
            return None
        return entry[1]

    tokens = array("tokenizer.ggml.tokens", (STR,), True)
    if tokens is None:
        return None
    n = len(tokens)
    seen = set()
    for t in tokens:
        if t in seen:
            problems.append("duplicate token %r in tokenizer.ggml.tokens (llama.cpp rejects the vocab)" % t)
            break
        seen.add(t)
    for key, types in (("tokenizer.ggml.scores", (F32, I32)), ("tokenizer.ggml.token_type", (I32,))):
        values = array(key, types, False)
        if values is not None and len(values) != n:
            problems.append("%s has %d entries for %d tokens" % (key, len(values), n))
    if model in ("gpt2", "gemma4", "hybriddna", "whitespace"):
        pre = kv.get("tokenizer.ggml.pre", (STR, "", None))
        if pre[0] != STR or (pre[1] and pre[1] not in PRE_TOKENIZERS):
            problems.append("tokenizer.ggml.pre %r is not a pre-tokenizer llama.cpp knows" % (pre[1],))
        if pre[1] != "kimi-k2":
            array("tokenizer.ggml.merges", (STR,), True)
    for what, defaults in (("bos", DEFAULT_BOS), ("eos", DEFAULT_EOS)):
        add = kv.get("tokenizer.ggml.add_%s_token" % what)
        if add and add[0] == BOOL and add[1]:
            ids = [kv.get("tokenizer.ggml.%s_token_id" % what, (None, None, None))[1], defaults.get(model)]
            if not any(isinstance(i, int) and 0 <= i < n for i in ids):
                problems.append("add_%s_token is true but no %s token id is in the vocab" % (what, what))
    return n


def check_file(path):
    problems = []
    parsed = read_gguf(path, problems)
    if parsed is None:
        return problems, None
    kv, tensors, _, _ = parsed
    arch_entry = kv.get("general.architecture")
    arch = arch_entry[1] if arch_entry and arch_entry[0] == STR else None
    summary = "%s, %d tensors" % (arch, len(tensors))
    if "llmnpu.prepared.version" in kv:
        return problems, summary + "; prepared llmnpu file: not a llama.cpp model, tensor checks skipped"
    if arch not in ARCHS:
        problems.append("unknown architecture %r (this checker knows %s)" % (arch, ", ".join(ARCHS)))
        return problems, summary
    check_key_types(kv, arch, problems)
    hp = check_hparams(kv, arch, problems)
    n_vocab = check_tokenizer(kv, arch, problems)
    shapes = {name: (dims, ttype) for name, dims, ttype, _ in tensors}
    if hp is None or "token_embd.weight" not in shapes:
        if "token_embd.weight" not in shapes:
            problems.append("missing tensor token_embd.weight")
        return problems, summary
    if n_vocab is None:
        n_vocab = shapes["token_embd.weight"][0][-1]
    req, opt = expected_tensors(arch, hp, n_vocab, shapes, kv)
    for name, want in list(req.items()) + list(opt.items()):
        if name not in shapes:
            if name in req:
                problems.append("missing tensor %s (llama.cpp load_tensors requires it for %s)" % (name, arch))
            continue
        got = shapes[name][0]
        if got + [1] * (len(want) - len(got)) != want + [1] * (len(got) - len(want)):
            problems.append("tensor %s has dims %s, llama.cpp expects %s" % (name, got, want))
    for name, _, _, _ in tensors:
        if name not in req and name not in opt:
            problems.append("unexpected tensor %s: llama.cpp does not load it for %s ('wrong number of tensors')"
                            % (name, arch))
    for name in ("rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"):
        if name in shapes and shapes[name][1] != 0:
            problems.append("tensor %s must be F32 (ggml_rope_ext reads F32 frequency factors)" % name)
    return problems, summary


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    failed = False
    for path in argv[1:]:
        try:
            problems, summary = check_file(path)
        except OSError as e:
            problems, summary = ["cannot read: %s" % e], None
        for p in problems:
            print("%s: %s" % (path, p))
        if problems:
            failed = True
        else:
            print("ok: %s (%s)" % (path, summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
