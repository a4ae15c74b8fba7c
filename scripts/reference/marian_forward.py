"""Reference logits for test/translation/marianGraph.test.ts: the forward pass of Hugging Face transformers'
`MarianMTModel` (models/marian/modeling_marian.py; the eager attention of transformers 4.3x-4.47, where
`MarianAttention` scales the query, `q_proj(x) * head_dim ** -0.5`, before `q @ k^T`), encoder and decoder without
cache, transcribed to numpy in float32:

  encoder: h = shared[ids] * sqrt(d_model) + sinusoid[0:S]   (MarianSinusoidalPositionalEmbedding, no embedding norm)
           per layer: h = LN(h + self_attn(h, padding mask)); h = LN(h + fc2(swish(fc1(h))))
  decoder: h = shared[ids] * sqrt(d_model) + sinusoid[0:N]
           per layer: h = LN(h + self_attn(h, causal mask)); h = LN(h + encoder_attn(h, enc, padding mask));
                      h = LN(h + fc2(swish(fc1(h))))
  logits = h @ shared^T + final_logits_bias

Masks are additive, float32 min where masked (`_prepare_4d_attention_mask`: where the mask is not 1; causal: key
position > query position). LayerNorm eps 1e-5. The sinusoid table is computed here, not read.

Weights: a JSON index {"config": MarianConfig, "data": "<file beside the index>", "tensors": [{"name", "shape",
"offset"}]} over raw little-endian float32 data. Linear weights are [in, out] (y = x @ W + b), as the fixture
graphs store them. Inputs: JSON {"input_ids", "attention_mask", "decoder_input_ids"} (lists of int lists) as the
second argument or on stdin. Prints JSON {"encoder_last_hidden_state", "logits"} (nested lists).

Needs numpy (Debian: apt-get install python3-numpy). Run:
  python3 scripts/reference/marian_forward.py weights.json '{"input_ids": [[5, 9, 0]], "attention_mask": [[1, 1, 1]],
      "decoder_input_ids": [[63, 4]]}'
"""
import json
import math
import os
import sys

import numpy as np

F32_MIN = np.finfo(np.float32).min

index_path = sys.argv[1]
index = json.load(open(index_path))
inputs = json.loads(sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read())
cfg = index["config"]
raw = open(os.path.join(os.path.dirname(index_path), index["data"]), "rb").read()
W = {t["name"]: np.frombuffer(raw, dtype="<f4", count=int(np.prod(t["shape"])), offset=t["offset"]).reshape(t["shape"]) for t in index["tensors"]}
D = cfg["d_model"]


def sinusoids(n_pos, dim):
    position_enc = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    out = np.empty((n_pos, dim), dtype=np.float32)
    sentinel = dim // 2 if dim % 2 == 0 else (dim // 2) + 1
    out[:, 0:sentinel] = np.sin(position_enc[:, 0::2])
    out[:, sentinel:] = np.cos(position_enc[:, 1::2])
    return out


POS = sinusoids(cfg["max_position_embeddings"], D)


def linear(x, p):
    return x @ W[p + ".weight"] + W[p + ".bias"]


def layer_norm(x, p):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(1e-5)) * W[p + ".weight"] + W[p + ".bias"]


def swish(x):
    return x / (np.float32(1) + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention(x, kv, mask, p, heads):
    b, n, _ = x.shape
    hd = D // heads
    split = lambda t: t.reshape(b, t.shape[1], heads, hd).transpose(0, 2, 1, 3)
    q = split(linear(x, p + ".q_proj") * np.float32(hd**-0.5))
    k = split(linear(kv, p + ".k_proj"))
    v = split(linear(kv, p + ".v_proj"))
    probs = softmax(q @ k.transpose(0, 1, 3, 2) + mask)
    return linear((probs @ v).transpose(0, 2, 1, 3).reshape(b, n, D), p + ".out_proj")


def embed(ids):
    return W["model.shared.weight"][ids] * np.float32(math.sqrt(D)) + POS[: ids.shape[1]]


def padding_mask(mask):
    return np.where(mask == 1, np.float32(0), F32_MIN).astype(np.float32)[:, None, None, :]


ids = np.array(inputs["input_ids"], dtype=np.int64)
enc_mask = padding_mask(np.array(inputs["attention_mask"], dtype=np.int64))
h = embed(ids)
for i in range(cfg["encoder_layers"]):
    p = f"model.encoder.layers.{i}"
    h = layer_norm(h + attention(h, h, enc_mask, p + ".self_attn", cfg["encoder_attention_heads"]), p + ".self_attn_layer_norm")
    h = layer_norm(h + linear(swish(linear(h, p + ".fc1")), p + ".fc2"), p + ".final_layer_norm")
enc = h

dec_ids = np.array(inputs["decoder_input_ids"], dtype=np.int64)
n = dec_ids.shape[1]
causal = np.where(np.arange(n)[None, :] > np.arange(n)[:, None], F32_MIN, np.float32(0)).astype(np.float32)
h = embed(dec_ids)
for i in range(cfg["decoder_layers"]):
    p = f"model.decoder.layers.{i}"
    heads = cfg["decoder_attention_heads"]
    h = layer_norm(h + attention(h, h, causal, p + ".self_attn", heads), p + ".self_attn_layer_norm")
    h = layer_norm(h + attention(h, enc, enc_mask, p + ".encoder_attn", heads), p + ".encoder_attn_layer_norm")
    h = layer_norm(h + linear(swish(linear(h, p + ".fc1")), p + ".fc2"), p + ".final_layer_norm")
logits = h @ W["model.shared.weight"].T + W["final_logits_bias"]

json.dump({"encoder_last_hidden_state": enc.tolist(), "logits": logits.tolist()}, sys.stdout)
print()
