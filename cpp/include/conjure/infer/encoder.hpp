// The sentence encoder: all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide) in libtorch, mean pooling
// and L2 normalisation, as sentence-transformers computes it. This header is torch-free: only
// the translation units under cpp/src/infer/torch include torch headers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "conjure/infer/wordpiece.hpp"

namespace conjure::infer {

// A model directory that is missing, incomplete, or not the model the code expects.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SentenceEncoder {
 public:
  struct Options {
    std::string model_dir;        // holds config.json, vocab.txt, model.safetensors
    std::string device = "cpu";   // "cpu", "cuda", "cuda:N" or "auto"
    std::size_t max_batch = 32;   // texts in one forward pass (memory bound of a call)
  };
  // Loads the weights (memory-mapped, read-only). Throws ModelError.
  explicit SentenceEncoder(const Options& options);
  ~SentenceEncoder();
  SentenceEncoder(const SentenceEncoder&) = delete;
  SentenceEncoder& operator=(const SentenceEncoder&) = delete;

  // The process-wide instance for a model directory and device, loaded on first use.
  static std::shared_ptr<SentenceEncoder> shared(const std::string& model_dir, const std::string& device = "cpu");

  std::size_t dim() const;
  // Word pieces kept per text, [CLS] and [SEP] included (sentence_bert_config.json's max_seq_length).
  std::size_t max_tokens() const;
  std::string device() const;
  const WordPieceTokenizer& tokenizer() const;

  // Writes texts.size() rows of dim() floats, L2-normalised, into out. Thread-safe; texts are
  // batched by length internally, max_batch at a time. Throws InvalidUtf8 (nothing written
  // when any text is invalid).
  void embed(const std::vector<std::string_view>& texts, float* out) const;
  std::vector<float> embed(const std::vector<std::string_view>& texts) const;
  // Rows for texts that are already tokenized (ids from tokenizer().encode(text, max_tokens())).
  void embed_ids(const std::vector<std::vector<std::int32_t>>& ids, float* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What the linked libtorch offers, for `conjure version --verbose`.
struct TorchInfo {
  std::string version;
  int intra_op_threads = 0;
  bool cuda = false;
  std::vector<std::string> devices;  // "cpu", then "cuda:0 (name)" ...
};
TorchInfo torch_info();

}  // namespace conjure::infer
