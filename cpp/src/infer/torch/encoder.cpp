// BERT forward pass in ATen. The only translation unit of the encoder that includes torch.
#include "conjure/infer/encoder.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/InferenceMode.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>

namespace conjure::infer {
namespace {

using json = nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError("cannot read " + path);
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    throw ModelError(path + " is not JSON: " + e.what());
  }
}

// A read-only mapping of a safetensors file; tensors point into it without a copy.
class SafeTensors {
 public:
  explicit SafeTensors(const std::string& path) : path_(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ModelError("cannot open " + path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < 8) {
      ::close(fd);
      throw ModelError(path + " is not a safetensors file (too short)");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    base_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (base_ == MAP_FAILED) throw ModelError("cannot map " + path);
    const auto* bytes = static_cast<const unsigned char*>(base_);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
    if (n > size_ - 8) fail("header length past the end of the file");
    try {
      header_ = json::parse(std::string_view(reinterpret_cast<const char*>(bytes + 8), n));
    } catch (const std::exception& e) {
      fail(std::string("header is not JSON: ") + e.what());
    }
    data_ = bytes + 8 + n;
    data_size_ = size_ - 8 - n;
  }
  ~SafeTensors() {
    if (base_ && base_ != MAP_FAILED) ::munmap(base_, size_);
  }
  SafeTensors(const SafeTensors&) = delete;
  SafeTensors& operator=(const SafeTensors&) = delete;

  // The tensor `name`, float32 of the given shape; a clear error when it is absent or differs.
  at::Tensor get(const std::string& name, std::vector<int64_t> shape) const {
    auto it = header_.find(name);
    if (it == header_.end() || !it->is_object()) fail("no tensor " + name);
    if (it->value("dtype", "") != "F32") fail(name + " is not float32");
    std::vector<int64_t> have;
    try {
      have = it->at("shape").get<std::vector<int64_t>>();
      const auto off = it->at("data_offsets").get<std::vector<std::uint64_t>>();
      if (have != shape) fail(name + " has shape " + it->at("shape").dump() + ", expected " + json(shape).dump());
      const std::uint64_t count = std::accumulate(shape.begin(), shape.end(), std::uint64_t{1},
                                                  [](std::uint64_t a, int64_t b) { return a * b; });
      if (off.size() != 2 || off[0] > off[1] || off[1] > data_size_ || off[1] - off[0] != count * 4 || off[0] % 4)
        fail(name + " has bad data offsets");
      void* p = const_cast<unsigned char*>(data_ + off[0]);
      return at::from_blob(p, shape, at::TensorOptions().dtype(at::kFloat));
    } catch (const json::exception& e) {
      fail(name + ": " + e.what());
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw ModelError(path_ + ": " + why); }
  std::string path_;
  void* base_ = nullptr;
  std::size_t size_ = 0;
  json header_;
  const unsigned char* data_ = nullptr;
  std::size_t data_size_ = 0;
};

struct Layer {
  at::Tensor qkv_w, qkv_b, out_w, out_b, ln1_w, ln1_b, up_w, up_b, down_w, down_b, ln2_w, ln2_b;
};

at::Device parse_device(const std::string& name) {
  if (name == "auto") return at::hasCUDA() ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  try {
    at::Device d(name);
    if (d.is_cuda() && !at::hasCUDA()) throw ModelError("device " + name + ": this torch has no CUDA device");
    if (!d.is_cpu() && !d.is_cuda()) throw ModelError("device " + name + ": only cpu and cuda are supported");
    return d;
  } catch (const c10::Error&) {
    throw ModelError("device " + name + " is not a device name (cpu, cuda, cuda:N, auto)");
  }
}

}  // namespace

struct SentenceEncoder::Impl {
  std::unique_ptr<WordPieceTokenizer> tokenizer;
  std::unique_ptr<SafeTensors> file;
  at::Device device{at::kCPU};
  std::size_t max_batch = 32;
  std::size_t max_tokens = 256;
  int64_t hidden = 384, heads = 12, vocab = 0, max_pos = 512;
  double eps = 1e-12;
  at::Tensor word, pos, type0, ln_w, ln_b;
  std::vector<Layer> layers;

  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask) const;
};

SentenceEncoder::SentenceEncoder(const Options& options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const std::string& dir = options.model_dir;
  if (options.max_batch == 0) throw ModelError("max_batch must be at least 1");
  m.max_batch = options.max_batch;
  m.device = parse_device(options.device);
  const json cfg = read_json(dir + "/config.json");
  try {
    if (cfg.value("model_type", "") != "bert") throw ModelError(dir + "/config.json: not a BERT model");
    m.hidden = cfg.at("hidden_size").get<int64_t>();
    m.heads = cfg.at("num_attention_heads").get<int64_t>();
    m.vocab = cfg.at("vocab_size").get<int64_t>();
    m.max_pos = cfg.at("max_position_embeddings").get<int64_t>();
    m.eps = cfg.value("layer_norm_eps", 1e-12);
    if (cfg.value("hidden_act", "gelu") != "gelu") throw ModelError(dir + "/config.json: hidden_act must be gelu");
    if (m.hidden <= 0 || m.heads <= 0 || m.hidden % m.heads) throw ModelError(dir + "/config.json: bad sizes");
    const int64_t inter = cfg.at("intermediate_size").get<int64_t>();
    const int64_t n_layers = cfg.at("num_hidden_layers").get<int64_t>();
    const json st = read_json(dir + "/sentence_bert_config.json");
    m.max_tokens = st.value("max_seq_length", std::size_t{256});
    if (m.max_tokens < 2 || static_cast<int64_t>(m.max_tokens) > m.max_pos)
      throw ModelError(dir + "/sentence_bert_config.json: max_seq_length out of range");
    m.tokenizer = std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt"));
    if (static_cast<int64_t>(m.tokenizer->vocab_size()) != m.vocab)
      throw ModelError(dir + "/vocab.txt does not match config.json's vocab_size");

    c10::InferenceMode guard;
    m.file = std::make_unique<SafeTensors>(dir + "/model.safetensors");
    const SafeTensors& f = *m.file;
    const int64_t H = m.hidden;
    auto put = [&](const at::Tensor& t) { return m.device.is_cpu() ? t : t.to(m.device); };
    m.word = put(f.get("embeddings.word_embeddings.weight", {m.vocab, H}));
    m.pos = put(f.get("embeddings.position_embeddings.weight", {m.max_pos, H}));
    m.type0 = put(f.get("embeddings.token_type_embeddings.weight", {2, H})[0].clone());
    m.ln_w = put(f.get("embeddings.LayerNorm.weight", {H}));
    m.ln_b = put(f.get("embeddings.LayerNorm.bias", {H}));
    for (int64_t i = 0; i < n_layers; ++i) {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      Layer l;
      l.qkv_w = put(at::cat({f.get(p + "attention.self.query.weight", {H, H}),
                             f.get(p + "attention.self.key.weight", {H, H}),
                             f.get(p + "attention.self.value.weight", {H, H})}));
      l.qkv_b = put(at::cat({f.get(p + "attention.self.query.bias", {H}), f.get(p + "attention.self.key.bias", {H}),
                             f.get(p + "attention.self.value.bias", {H})}));
      l.out_w = put(f.get(p + "attention.output.dense.weight", {H, H}));
      l.out_b = put(f.get(p + "attention.output.dense.bias", {H}));
      l.ln1_w = put(f.get(p + "attention.output.LayerNorm.weight", {H}));
      l.ln1_b = put(f.get(p + "attention.output.LayerNorm.bias", {H}));
      l.up_w = put(f.get(p + "intermediate.dense.weight", {inter, H}));
      l.up_b = put(f.get(p + "intermediate.dense.bias", {inter}));
      l.down_w = put(f.get(p + "output.dense.weight", {H, inter}));
      l.down_b = put(f.get(p + "output.dense.bias", {H}));
      l.ln2_w = put(f.get(p + "output.LayerNorm.weight", {H}));
      l.ln2_b = put(f.get(p + "output.LayerNorm.bias", {H}));
      m.layers.push_back(std::move(l));
    }
  } catch (const json::exception& e) {
    throw ModelError(dir + "/config.json: " + e.what());
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const ModelError*>(&e)) throw;
    throw ModelError(e.what());
  }
}

SentenceEncoder::~SentenceEncoder() = default;

at::Tensor SentenceEncoder::Impl::forward(const at::Tensor& ids, const at::Tensor& mask) const {
  const int64_t B = ids.size(0), L = ids.size(1), H = hidden, D = hidden / heads;
  at::Tensor x = at::embedding(word, ids) + pos.narrow(0, 0, L) + type0;
  x = at::layer_norm(x, {H}, ln_w, ln_b, eps);
  std::optional<at::Tensor> attn;
  if (mask.defined()) attn = mask.to(at::kBool).view({B, 1, 1, L});
  for (const Layer& l : layers) {
    at::Tensor qkv = at::linear(x, l.qkv_w, l.qkv_b).view({B, L, 3, heads, D}).permute({2, 0, 3, 1, 4});
    at::Tensor ctx = at::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn);
    ctx = ctx.transpose(1, 2).reshape({B, L, H});
    x = at::layer_norm(at::linear(ctx, l.out_w, l.out_b) + x, {H}, l.ln1_w, l.ln1_b, eps);
    at::Tensor h = at::gelu(at::linear(x, l.up_w, l.up_b));
    x = at::layer_norm(at::linear(h, l.down_w, l.down_b) + x, {H}, l.ln2_w, l.ln2_b, eps);
  }
  at::Tensor pooled;
  if (mask.defined()) {
    at::Tensor mf = mask.to(x.scalar_type()).unsqueeze(-1);
    pooled = (x * mf).sum(1) / mf.sum(1).clamp_min(1e-9);
  } else {
    pooled = x.mean(1);
  }
  return pooled / pooled.norm(2, {1}, true).clamp_min(1e-12);
}

std::shared_ptr<SentenceEncoder> SentenceEncoder::shared(const std::string& model_dir, const std::string& device) {
  static std::mutex mu;
  static std::map<std::pair<std::string, std::string>, std::shared_ptr<SentenceEncoder>> loaded;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = loaded[{model_dir, device}];
  if (!slot) {
    Options o;
    o.model_dir = model_dir;
    o.device = device;
    slot = std::make_shared<SentenceEncoder>(o);
  }
  return slot;
}

std::size_t SentenceEncoder::dim() const { return static_cast<std::size_t>(impl_->hidden); }
std::size_t SentenceEncoder::max_tokens() const { return impl_->max_tokens; }
std::string SentenceEncoder::device() const { return impl_->device.str(); }
const WordPieceTokenizer& SentenceEncoder::tokenizer() const { return *impl_->tokenizer; }

void SentenceEncoder::embed(const std::vector<std::string_view>& texts, float* out) const {
  std::vector<std::vector<std::int32_t>> ids;
  ids.reserve(texts.size());
  for (std::string_view t : texts) ids.push_back(impl_->tokenizer->encode(t, impl_->max_tokens));
  embed_ids(ids, out);
}

std::vector<float> SentenceEncoder::embed(const std::vector<std::string_view>& texts) const {
  std::vector<float> out(texts.size() * dim());
  embed(texts, out.data());
  return out;
}

void SentenceEncoder::embed_ids(const std::vector<std::vector<std::int32_t>>& ids, float* out) const {
  const Impl& m = *impl_;
  const std::size_t n = ids.size(), H = dim();
  for (const auto& v : ids) {
    if (v.size() < 2 || v.size() > m.max_tokens) throw std::invalid_argument("token ids out of the model's window");
    for (std::int32_t id : v)
      if (id < 0 || id >= m.vocab) throw std::invalid_argument("token id out of the vocabulary");
  }
  // Longest first, so each batch pads to texts of about its own length.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a].size() > ids[b].size(); });
  c10::InferenceMode guard;
  for (std::size_t start = 0; start < n; start += m.max_batch) {
    const std::size_t count = std::min(m.max_batch, n - start);
    const int64_t L = static_cast<int64_t>(ids[order[start]].size());
    bool ragged = false;
    at::Tensor tok = at::zeros({static_cast<int64_t>(count), L}, at::kLong);
    at::Tensor mask = at::zeros({static_cast<int64_t>(count), L}, at::kLong);
    auto* tp = tok.data_ptr<int64_t>();
    auto* mp = mask.data_ptr<int64_t>();
    for (std::size_t r = 0; r < count; ++r) {
      const auto& v = ids[order[start + r]];
      if (static_cast<int64_t>(v.size()) != L) ragged = true;
      for (std::size_t c = 0; c < v.size(); ++c) {
        tp[r * L + c] = v[c];
        mp[r * L + c] = 1;
      }
      for (int64_t c = static_cast<int64_t>(v.size()); c < L; ++c) tp[r * L + c] = m.tokenizer->pad_id();
    }
    at::Tensor dev_mask = ragged ? mask.to(m.device) : at::Tensor();
    at::Tensor rows = m.forward(tok.to(m.device), dev_mask).to(at::kCPU).contiguous();
    const float* rp = rows.data_ptr<float>();
    for (std::size_t r = 0; r < count; ++r) std::copy_n(rp + r * H, H, out + order[start + r] * H);
  }
}

TorchInfo torch_info() {
  TorchInfo info;
  info.version = TORCH_VERSION;
  info.intra_op_threads = at::get_num_threads();
  info.cuda = at::hasCUDA();
  info.devices.push_back("cpu");
  if (info.cuda) {
    const int n = at::detail::getCUDAHooks().getNumGPUs();
    for (int i = 0; i < n; ++i) info.devices.push_back("cuda:" + std::to_string(i));
  }
  return info;
}

}  // namespace conjure::infer
